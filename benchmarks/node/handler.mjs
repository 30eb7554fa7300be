// The Node.js design the benchmark compares our Python runtime with: a handler on AWS's
// runtime client (npm aws-lambda-ric) wrapped in awslambda.streamifyResponse, piping the
// body of GetObject (@aws-sdk/client-s3) into awslambda.HttpResponseStream.from(...).
//
// Environment: BENCH_S3_ENDPOINT (the fake S3's URL, path-style), BENCH_BUCKET, and the
// usual AWS_REGION / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. The object's key is the
// request's path without its leading slash.
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

const s3 = new S3Client({
  endpoint: process.env.BENCH_S3_ENDPOINT,
  forcePathStyle: true,
  region: process.env.AWS_REGION || 'us-east-1',
});

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const key = decodeURIComponent(event.rawPath.slice(1));
  const object = await s3.send(new GetObjectCommand({ Bucket: process.env.BENCH_BUCKET, Key: key }));
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { 'content-type': object.ContentType || 'application/octet-stream' },
  });
  await pipeline(object.Body, stream);
});
