import { useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ChatMessage } from '../../realtime/protocol';
import { CHAT_MAX } from '../../api/limits';
import type { PendingMessage } from '../../realtime/room';

interface ChatPanelProps {
  selfId: number;
  messages: ChatMessage[];
  pending: PendingMessage[];
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: boolean;
  onLoadOlder: () => void;
  onSend: (body: string) => boolean;
  onRetry: (clientId: string) => void;
  onDiscard: (clientId: string) => void;
  /** Shown above the input (a refused message, a connection problem). */
  notice?: ReactNode;
}

/** Near the bottom means the reader follows the conversation: new messages scroll into view. */
const STICK_PX = 80;

export function ChatPanel(props: ChatPanelProps) {
  const { selfId, messages, pending, hasOlder, loadingOlder, olderError, onLoadOlder, onSend, onRetry, onDiscard, notice } = props;
  const { t, i18n } = useTranslation();
  const [draft, setDraft] = useState('');
  const logRef = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const prevFirstId = useRef<number | null>(null);
  const prevHeight = useRef(0);

  const length = [...draft.trim()].length;
  const tooLong = length > CHAT_MAX;

  // Keep the view where the reader left it: at the bottom for new messages, in place when
  // older ones are added above.
  useLayoutEffect(() => {
    const log = logRef.current;
    if (!log) return;
    const firstId = messages[0]?.id ?? null;
    const prependedOlder = prevFirstId.current !== null && firstId !== null && firstId < prevFirstId.current;
    if (prependedOlder && !stick.current) {
      log.scrollTop += log.scrollHeight - prevHeight.current;
    } else if (stick.current) {
      log.scrollTop = log.scrollHeight;
    }
    prevFirstId.current = firstId;
    prevHeight.current = log.scrollHeight;
  }, [messages, pending]);

  const onScroll = () => {
    const log = logRef.current;
    if (!log) return;
    stick.current = log.scrollHeight - log.scrollTop - log.clientHeight < STICK_PX;
  };

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!draft.trim() || tooLong) return;
    if (onSend(draft)) {
      setDraft('');
      stick.current = true;
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends, Shift+Enter breaks the line; never while an IME is composing Hangul.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  const time = new Intl.DateTimeFormat(i18n.language, { hour: '2-digit', minute: '2-digit' });
  const empty = messages.length === 0 && pending.length === 0;

  return (
    <section className="chat" aria-label={t('live.chat.title')}>
      <h2 className="chat__title">{t('live.chat.title')}</h2>
      <ol className="chat__log" ref={logRef} onScroll={onScroll} aria-label={t('live.chat.log')} aria-live="polite" data-testid="chat-log">
        {hasOlder && (
          <li className="chat__older">
            <button type="button" className="link-btn" onClick={onLoadOlder} disabled={loadingOlder}>
              {loadingOlder ? t('common.loading') : t('live.chat.older')}
            </button>
          </li>
        )}
        {olderError && (
          <li className="chat__older">
            <span className="field__error">{t('live.chat.olderError')}</span>{' '}
            <button type="button" className="link-btn" onClick={onLoadOlder}>
              {t('common.retry')}
            </button>
          </li>
        )}
        {empty && !hasOlder && <li className="chat__empty muted">{t('live.chat.empty')}</li>}
        {messages.map((m, i) => {
          const mine = m.userId === selfId;
          const previous = messages[i - 1];
          const grouped = previous?.userId === m.userId;
          return (
            <li
              key={m.id}
              className={`chat__msg${mine ? ' chat__msg--mine' : ''}${grouped ? ' chat__msg--grouped' : ''}`}
              data-message-id={m.id}
            >
              {!mine && !grouped && <span className="chat__author">{m.nickname}</span>}
              <div className="chat__line">
                {m.deleted ? (
                  <p className="chat__bubble chat__bubble--deleted">{t('live.chat.deleted')}</p>
                ) : (
                  <p className="chat__bubble">{m.body}</p>
                )}
                <time className="chat__time" dateTime={m.createdAt}>
                  {time.format(new Date(m.createdAt))}
                </time>
              </div>
            </li>
          );
        })}
        {pending.map((p) => (
          <li
            key={p.clientId}
            className={`chat__msg chat__msg--mine chat__msg--${p.status}`}
            data-pending={p.status}
          >
            <div className="chat__line">
              <p className="chat__bubble">{p.body}</p>
            </div>
            {p.status === 'sending' ? (
              <span className="chat__status">{t('live.chat.sending')}</span>
            ) : (
              <span className="chat__status chat__status--failed">
                {t('live.chat.failed')}
                {' · '}
                <button type="button" className="link-btn" onClick={() => onRetry(p.clientId)}>
                  {t('live.chat.retry')}
                </button>
                {' · '}
                <button type="button" className="link-btn link-btn--muted" onClick={() => onDiscard(p.clientId)}>
                  {t('live.chat.discard')}
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
      {notice}
      <form className="chat__form" onSubmit={submit}>
        <label htmlFor="chat-input" className="visually-hidden">
          {t('live.chat.placeholder')}
        </label>
        <textarea
          id="chat-input"
          className="input chat__input"
          rows={1}
          value={draft}
          placeholder={t('live.chat.placeholder')}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
          aria-invalid={tooLong}
          aria-describedby={tooLong ? 'chat-too-long' : undefined}
          enterKeyHint="send"
        />
        <button type="submit" className="btn btn--primary chat__send" disabled={!draft.trim() || tooLong}>
          {t('live.chat.send')}
        </button>
      </form>
      {tooLong && (
        <p id="chat-too-long" className="field__error chat__too-long" role="alert">
          {t('live.chat.tooLong', { max: CHAT_MAX.toLocaleString(i18n.language), count: length })}
        </p>
      )}
    </section>
  );
}
