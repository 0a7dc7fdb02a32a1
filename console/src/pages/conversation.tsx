/**
 * One conversation (`/conversations/:conversationId`): its recording with a waveform, the
 * transcript (each turn seeks the recording; the turn being heard is marked), the analysis, the
 * facts, dynamic variables and feedback, its tags, downloads, and deleting it. A conversation that
 * does not exist (deleted, say) gets a page saying so, with the way back to the list.
 */
import { useCallback, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError, api } from "../api/client";
import { ConversationActions } from "../components/conversation-actions";
import { ConversationAnalysis } from "../components/conversation-analysis";
import {
  ConversationFeedback,
  ConversationMetadata,
  ConversationVariables,
} from "../components/conversation-details";
import type { ConversationDoc } from "../components/conversation-doc";
import { ConversationPlayer, type PlayerHandle } from "../components/conversation-player";
import { ConversationTags } from "../components/conversation-tags";
import { activeTurnIndex, ConversationTranscript } from "../components/conversation-transcript";
import { usePageTitle } from "../components/page-title";
import { ErrorLine, Loading } from "../components/status";
import { useApi } from "../components/use-api";
import { formatDateTime, formatDuration } from "../format";
import "./conversation.css";

/** What loading the page gives: the document, or word that there is none. */
type Loaded = { doc: ConversationDoc } | { missing: true };

export function ConversationPage() {
  const { conversationId = "" } = useParams();
  const { data, error, loading, reload } = useApi<Loaded>(
    async (signal) => {
      try {
        const doc = await api<ConversationDoc>(
          "GET",
          `/v1/convai/conversations/${encodeURIComponent(conversationId)}`,
          { signal },
        );
        return { doc };
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return { missing: true };
        throw e;
      }
    },
    [conversationId],
  );
  const doc = data && "doc" in data ? data.doc : undefined;
  usePageTitle(doc ? (doc.analysis?.call_summary_title ?? "Conversation") : "Conversation");

  if (loading && !data) return <Loading what="the conversation" />;
  if (error) {
    return (
      <>
        <h1>Conversation</h1>
        <ErrorLine error={`${error} Check the server, then try again.`} />
        <button type="button" onClick={reload}>
          Try again
        </button>
      </>
    );
  }
  if (!doc) {
    return (
      <>
        <h1>Conversation not found</h1>
        <p>
          There is no conversation <code>{conversationId}</code>. It may have been deleted.
        </p>
        <p>
          <Link to="/conversations">Back to the conversations</Link>
        </p>
      </>
    );
  }
  return <ConversationView key={doc.conversation_id} doc={doc} />;
}

function ConversationView({ doc }: { doc: ConversationDoc }) {
  const player = useRef<PlayerHandle | null>(null);
  const [position, setPosition] = useState<{ secs: number; playing: boolean } | null>(null);
  const turns = doc.transcript ?? [];
  const onTime = useCallback((secs: number, playing: boolean) => setPosition({ secs, playing }), []);
  const onSeek = useCallback((secs: number) => player.current?.seek(secs), []);
  const active = position ? activeTurnIndex(turns, position.secs) : null;
  const start = doc.metadata?.start_time_unix_secs;
  const title = doc.analysis?.call_summary_title;

  return (
    <article className="conversation-page">
      <header className="conversation-header">
        <div>
          <p className="muted breadcrumb">
            <Link to="/conversations">Conversations</Link> / <code>{doc.conversation_id}</code>
          </p>
          <h1>{title || "Conversation"}</h1>
          <p className="muted conversation-subtitle">
            {doc.agent_name ?? doc.agent_id} · {formatDateTime(start)} ·{" "}
            {formatDuration(doc.metadata?.call_duration_secs)}
          </p>
        </div>
        <ConversationActions conversationId={doc.conversation_id} hasAudio={doc.has_audio === true} />
      </header>

      <section className="card recording" aria-labelledby="recording-heading">
        <h2 id="recording-heading">Recording</h2>
        {doc.has_audio ? (
          <ConversationPlayer
            conversationId={doc.conversation_id}
            hasUserAudio={doc.has_user_audio === true}
            hasResponseAudio={doc.has_response_audio === true}
            handle={player}
            onTime={onTime}
          />
        ) : (
          <p className="muted">This conversation has no recording.</p>
        )}
      </section>

      <div className="conversation-columns">
        <section className="card transcript-section" aria-labelledby="transcript-heading">
          <h2 id="transcript-heading">Transcript</h2>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard. */}
          <section className="transcript-scroll" tabIndex={0} aria-label="Transcript turns">
            <ConversationTranscript
              turns={turns}
              activeIndex={active}
              playing={position?.playing === true}
              onSeek={doc.has_audio ? onSeek : undefined}
            />
          </section>
        </section>
        <div className="conversation-side">
          <section className="card" aria-labelledby="analysis-heading">
            <h2 id="analysis-heading">Analysis</h2>
            <ConversationAnalysis analysis={doc.analysis} />
          </section>
          <section className="card" aria-labelledby="tags-heading">
            <h2 id="tags-heading">Tags</h2>
            <ConversationTags conversationId={doc.conversation_id} initialTagIds={doc.tag_ids ?? []} />
          </section>
          <section className="card" aria-labelledby="details-heading">
            <h2 id="details-heading">Details</h2>
            <ConversationMetadata doc={doc} />
          </section>
          <section className="card" aria-labelledby="feedback-heading">
            <h2 id="feedback-heading">Feedback</h2>
            <ConversationFeedback doc={doc} />
          </section>
          <section className="card" aria-labelledby="variables-heading">
            <h2 id="variables-heading">Dynamic variables</h2>
            <ConversationVariables doc={doc} />
          </section>
        </div>
      </div>
    </article>
  );
}
