// A stand-in for a person's browser that only notes the URL it was asked to open (mcp-remote
// runs $BROWSER through xdg-open), appended to the file named by GATEHOUSE_TEST_BROWSER_LOG: the
// test then plays the person at that URL itself (signing in, consenting), step by step.
import { appendFileSync } from 'node:fs';

const log = process.env.GATEHOUSE_TEST_BROWSER_LOG;
if (log) appendFileSync(log, `${process.argv[2]}\n`);
