// Loaded with `node --import` into a CLI child: at exit, writes the process's peak RSS (bytes)
// to the file named by REPORT_RSS_TO, so a test can measure the real CLI's memory.
import { writeFileSync } from 'node:fs';

const to = process.env.REPORT_RSS_TO;
if (to) process.on('exit', () => writeFileSync(to, String(process.resourceUsage().maxRSS * 1024)));
