// Streaming handlers for AWS's Node.js runtime client (npm aws-lambda-ric), one per oracle case.
// Each case in tests/oracles/cases.py names its path; the handler picks its behaviour by rawPath.
// `awslambda` is the global the runtime client installs (awslambda.streamifyResponse and
// awslambda.HttpResponseStream, as documented for Node.js response streaming).

const chunks = (...parts) => parts;

const cases = {
  '/success': async (event, stream) => {
    const out = awslambda.HttpResponseStream.from(stream, {
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Case': 'success' },
    });
    for (const part of chunks('Hello, ', 'streaming ', 'world!')) out.write(part);
    out.end();
  },
  '/not-modified': async (event, stream) => {
    const out = awslambda.HttpResponseStream.from(stream, {
      statusCode: 304,
      headers: { ETag: '"v1"', 'Cache-Control': 'max-age=60' },
    });
    out.write('');
    out.end();
  },
  '/cookies': async (event, stream) => {
    const out = awslambda.HttpResponseStream.from(stream, {
      statusCode: 201,
      headers: { 'Content-Type': 'text/plain' },
      cookies: ['session=abc; Path=/; HttpOnly', 'theme=dark; Max-Age=3600'],
    });
    out.write('cookies set');
    out.end();
  },
  '/binary': async (event, stream) => {
    const out = awslambda.HttpResponseStream.from(stream, {
      statusCode: 200,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    const bytes = new Uint8Array(256);
    for (let i = 0; i < 256; i++) bytes[i] = i;
    out.write(bytes.subarray(0, 100));
    out.write(bytes.subarray(100));
    out.end();
  },
  '/echo': async (event, stream) => {
    const out = awslambda.HttpResponseStream.from(stream, {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
    });
    const { rawPath, rawQueryString, cookies, queryStringParameters, isBase64Encoded, body } = event;
    const http = event.requestContext.http;
    out.write(JSON.stringify({
      rawPath, rawQueryString, cookies, queryStringParameters, isBase64Encoded, body,
      method: http.method, path: http.path, userAgent: http.userAgent,
      multi: event.headers['x-multi'],
    }));
    out.end();
  },
  '/midstream-error': async (event, stream) => {
    const out = awslambda.HttpResponseStream.from(stream, {
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain' },
    });
    out.write('partial ');
    await new Promise((resolve) => setTimeout(resolve, 50));
    throw new Error('boom midstream');
  },
  '/error-before-body': async () => {
    throw new Error('boom before any byte');
  },
  '/raw-stream': async (event, stream) => {
    stream.setContentType('text/csv');
    stream.write('a,b\n');
    stream.write('1,2\n');
    stream.end();
  },
};

export const handler = awslambda.streamifyResponse(async (event, stream) => {
  const run = cases[event.rawPath];
  if (!run) throw new Error(`no oracle case at ${event.rawPath}`);
  await run(event, stream);
});
