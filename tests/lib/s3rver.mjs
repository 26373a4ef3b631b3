// A private S3-compatible server for the tests: s3rver on 127.0.0.1:PORT,
// storing into DIR, with the bucket "cosmiv". Credentials: S3RVER / S3RVER.
//   node tests/lib/s3rver.mjs PORT DIR
import S3rver from 's3rver';

const [port, directory] = process.argv.slice(2);
const server = new S3rver({
  port: Number(port), address: '127.0.0.1', directory, silent: true,
  configureBuckets: [{ name: 'cosmiv' }],
});
await server.run();
console.log(`s3rver listening on ${port}`);
process.on('SIGTERM', async () => { await server.close(); process.exit(0); });
