// Starts the fauxqs SQS emulator on 127.0.0.1 only (its own CLI binds every interface).
// Usage: node tests/fauxqs/serve.mjs PORT
import { buildApp } from "fauxqs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error("usage: node serve.mjs PORT (a number from 1 to 65535)");
  process.exit(2);
}
const app = buildApp({ logger: false });
await app.listen({ port, host: "127.0.0.1" });
console.log(`fauxqs listening on http://127.0.0.1:${port}`);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => app.close().then(() => process.exit(0)));
}
