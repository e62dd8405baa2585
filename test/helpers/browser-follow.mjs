// A stand-in for a person's browser, for clients that open one (mcp-remote runs $BROWSER through
// xdg-open): it opens the authorization URL and follows redirects to the client's callback, as a
// browser does when the authorization server signs the person in and consents at once (the test
// issuer does). Each URL it was given is appended to the file named by GATEHOUSE_TEST_BROWSER_LOG.
import { appendFileSync } from 'node:fs';

const url = process.argv[2];
const log = process.env.GATEHOUSE_TEST_BROWSER_LOG;
if (log) appendFileSync(log, `${url}\n`);
const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(15_000) });
await response.arrayBuffer();
if (log) appendFileSync(log, `→ ${response.status} ${response.url}\n`);
