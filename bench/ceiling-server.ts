/**
 * The ceiling: the fastest answer Node can give on this machine, a bare node:http server that
 * sends a precomputed JSON body of a given size. Run as its own process (like openconvai), it
 * prints its port on stdout.
 */
import { createServer } from "node:http";

const size = Number(process.argv[2] ?? 10_000);
const body = Buffer.from(`{"padding":"${"x".repeat(Math.max(0, size - 14))}"}`);
const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
  response.end(body);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
