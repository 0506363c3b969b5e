/**
 * TLS trust failures: the server's certificate chain or name did not verify (Node's
 * `tls.TLSSocket` verification error codes, OpenSSL's `X509_V_ERR_*` names, and
 * `ERR_TLS_CERT_ALTNAME_INVALID` for a name mismatch, RFC 6125). These are configuration errors,
 * not outages: retrying cannot fix them, so a target that meets one stops with its own exit code
 * and a hint, instead of being retried until `--give-up-after`.
 */

const TRUST: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by a CA this host does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of its certificate is unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of its certificate is not among the trusted CAs',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed CA this host does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet (check the clocks)',
  CERT_UNTRUSTED: 'its certificate is not trusted',
  CERT_REJECTED: 'its certificate is rejected',
  CERT_SIGNATURE_FAILURE: 'its certificate signature does not verify',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another host name',
  HOSTNAME_MISMATCH: 'its certificate is for another host name',
};

/** A plain description when `code` (an error's `code`) is a TLS trust failure, else null. */
export function tlsTrustProblem(code: string | undefined): string | null {
  return (code && TRUST[code]) || null;
}
