// Plays the oracle cases of tests/oracles/cases.py under AWS's Node.js runtime client
// (npm aws-lambda-ric), the way the Node.js response streaming docs show it:
// awslambda.streamifyResponse + awslambda.HttpResponseStream.from.
// The scripts come from the JSON file named by ORACLE_CASES; the case is the path segment
// after /case/.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const scripts = JSON.parse(readFileSync(process.env.ORACLE_CASES, 'utf8'));
const GATE_POLL_MS = 10;
const GATE_LIMIT_MS = 10000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits (bounded) until the test has seen the first chunk and created the gate file.
async function passGate(name) {
  const gate = join(process.env.ORACLE_GATE_DIR, name);
  for (let waited = 0; !existsSync(gate); waited += GATE_POLL_MS) {
    if (waited > GATE_LIMIT_MS) throw new Error(`gate ${gate} never opened`);
    await sleep(GATE_POLL_MS);
  }
}

function echo(event) {
  const { rawPath, rawQueryString, cookies, queryStringParameters, isBase64Encoded, body } = event;
  const http = event.requestContext.http;
  return JSON.stringify({
    rawPath, rawQueryString, cookies, queryStringParameters, isBase64Encoded, body,
    method: http.method, path: http.path, userAgent: http.userAgent, multi: event.headers['x-multi'],
  });
}

function open(stream, script) {
  if (script.rawContentType) {
    stream.setContentType(script.rawContentType);
    return stream;
  }
  return awslambda.HttpResponseStream.from(stream, {
    statusCode: script.status, headers: script.headers, cookies: script.cookies,
  });
}

export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const name = event.rawPath.split('/')[2];
  const script = scripts[name];
  if (!script) throw new Error(`no oracle case named ${name}`);
  if (script.errorBeforeBody) throw new Error(script.errorBeforeBody);
  await sleep(script.holdBeforeMs);
  const out = open(stream, script);
  const written = script.echoEvent ? [Buffer.from(echo(event))] : script.chunks.map((c) => Buffer.from(c, 'base64'));
  const chunks = Array.from({ length: script.repeat }, () => written).flat();
  // The client sends the prelude on the first write() only (end() alone skips it), so a
  // body-less response writes an empty string to get its status and headers out.
  if (chunks.length === 0) out.write('');
  for (const [index, chunk] of chunks.entries()) {
    // Honour back-pressure so the bandwidth limit is felt by the function, as on Lambda.
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
    if (index === 0 && script.gate) await passGate(name);
  }
  await sleep(script.holdMs);
  if (script.crash) process.exit(3);
  if (script.errorAfterBody) {
    await sleep(20);
    throw new Error(script.errorAfterBody);
  }
  out.end();
});
