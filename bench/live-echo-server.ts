/**
 * The live benchmark's baseline: a bare `ws` server, run as its own process, that speaks just
 * enough of the agent protocol for the benchmark's client (the metadata after the init frame; for
 * each user message, at once, the same frames the development agent streams: start, a delta per
 * word, stop, agent_response). Driven by the same client at the same load in the same run, its
 * round trip is the floor: the client, the kernel and WebSocket framing on this machine.
 *
 *   node --import tsx bench/live-echo-server.ts      (prints its port on stdout)
 */
import { WebSocketServer } from "ws";

const server = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has("convai") ? "convai" : false),
});

server.on("connection", (socket) => {
  let conversation = 0;
  let eventId = 0;
  const send = (frame: unknown) => socket.send(JSON.stringify(frame));
  const part = (text: string, type: string, id: number) =>
    send({ type: "agent_chat_response_part", text_response_part: { text, type, event_id: id } });
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as { type?: string; text?: string };
    if (frame.type === "conversation_initiation_client_data") {
      conversation += 1;
      send({
        type: "conversation_initiation_metadata",
        conversation_initiation_metadata_event: {
          conversation_id: `conv_echo${conversation}`,
          agent_output_audio_format: "pcm_16000",
          user_input_audio_format: "pcm_16000",
        },
      });
    } else if (frame.type === "user_message") {
      eventId += 1;
      const reply = `You said: ${frame.text ?? ""}`;
      part("", "start", eventId);
      for (const word of reply.match(/\S+\s*/g) ?? []) part(word, "delta", eventId);
      part("", "stop", eventId);
      send({ type: "agent_response", agent_response_event: { agent_response: reply, event_id: eventId } });
    }
  });
});

server.on("listening", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on("SIGTERM", () => {
  for (const client of server.clients) client.terminate();
  server.close(() => process.exit(0));
});
