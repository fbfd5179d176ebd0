import { useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * The challenge's notice over the room. `fresh`: it arrived live (a `notice` frame), so the
 * banner says it is new for a moment.
 */
export function NoticeBanner({ notice, fresh }: { notice: string; fresh: boolean }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  // Folded to two lines; the toggle appears only when that hides something (width-dependent).
  const [long, setLong] = useState(false);
  const body = useRef<HTMLParagraphElement>(null);
  useLayoutEffect(() => {
    const el = body.current;
    if (!el || open) return;
    const measure = () => setLong(el.scrollHeight > el.clientHeight + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [open]);
  return (
    <aside
      className={`room__notice${fresh ? ' room__notice--fresh' : ''}${open ? '' : ' room__notice--folded'}`}
      aria-label={t('notice.title')}
      aria-live="polite"
      data-testid="room-announcement"
    >
      <span className="room__notice-icon" aria-hidden="true">
        📢
      </span>
      <div className="room__notice-text">
        <strong className="room__notice-label">
          {t('notice.title')}
          {fresh && <span className="room__notice-new">{t('notice.new')}</span>}
        </strong>
        <p className="room__notice-body" ref={body}>
          {notice}
        </p>
      </div>
      {(long || open) && (
        <button type="button" className="link-btn room__notice-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
          {open ? t('notice.fold') : t('notice.unfold')}
        </button>
      )}
    </aside>
  );
}
