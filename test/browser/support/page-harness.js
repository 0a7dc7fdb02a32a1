// Served to the browser-test page by client-page.ts, after the client bundle: records what the
// official client reports into window.__events, and measures the fake microphone.

window.__events = [];
/** How many `audio` events the client has received (voice sessions). */
window.__audioChunks = 0;

/** The client callbacks that push each report into window.__events, in order. */
window.__recordingCallbacks = () => ({
  onConnect: ({ conversationId }) =>
    window.__events.push({ kind: "connect", conversationId, at: Date.now() }),
  onMessage: ({ role, message }) => window.__events.push({ kind: "message", role, message }),
  onStatusChange: ({ status }) => window.__events.push({ kind: "status", status }),
  onModeChange: ({ mode }) => window.__events.push({ kind: "mode", mode }),
  onAudio: () => {
    // Counted, not recorded: a voice reply is dozens of chunks.
    window.__audioChunks += 1;
  },
  onInterruption: ({ event_id }) => window.__events.push({ kind: "interruption", eventId: event_id }),
  onAgentResponseCorrection: (correction) =>
    window.__events.push({
      kind: "correction",
      original: correction.original_agent_response,
      corrected: correction.corrected_agent_response,
    }),
  onError: (message) => window.__events.push({ kind: "error", message: String(message) }),
  onDisconnect: (details) =>
    window.__events.push({
      kind: "disconnect",
      at: Date.now(),
      reason: details.reason,
      closeCode: details.closeCode,
      closeReason: details.closeReason,
    }),
});

/**
 * Opens the microphone with getUserMedia({audio: true}), feeds it to an AnalyserNode, and samples
 * it every 20 ms for durationMs from the first sound (up to 5 s of waiting for one): the track's
 * state, the loudest and quietest RMS, and the strongest frequency at the loudest moment. Timing
 * from the first sound keeps the quiet before the stream starts out of the quietest level.
 */
window.measureMicLevel = async (durationMs) => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const [track] = stream.getAudioTracks();
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  const mute = context.createGain();
  mute.gain.value = 0;
  // Connected through a silent gain to the output, so the graph is pulled even where the browser
  // would not process an analyser that leads nowhere.
  context.createMediaStreamSource(stream).connect(analyser).connect(mute).connect(context.destination);
  const samples = new Float32Array(analyser.fftSize);
  const bins = new Float32Array(analyser.frequencyBinCount);
  let maxRms = 0;
  let minRms = 1;
  let peakHz = 0;
  const trackState = track ? track.readyState : "none";
  let end = performance.now() + 5_000;
  let started = false;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
    if (!started) {
      if (rms === 0) continue;
      started = true;
      end = performance.now() + durationMs;
    }
    minRms = Math.min(minRms, rms);
    if (rms > maxRms) {
      maxRms = rms;
      analyser.getFloatFrequencyData(bins);
      const loudest = bins.reduce((best, value, i) => (value > bins[best] ? i : best), 0);
      peakHz = (loudest * context.sampleRate) / analyser.fftSize;
    }
  }
  const sampleRate = context.sampleRate;
  for (const t of stream.getTracks()) t.stop();
  await context.close();
  return { trackState, sampleRate, maxRms, minRms, peakHz };
};
