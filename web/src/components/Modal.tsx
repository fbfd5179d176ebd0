import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

interface ModalProps {
  label: string;
  onClose: () => void;
  children: ReactNode;
}

/** A native <dialog> opened modally: the browser handles focus trapping, Escape and the backdrop layer. */
export function Modal({ label, onClose, children }: ModalProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    dialog.showModal();
    document.body.classList.add('modal-open');
    return () => {
      document.body.classList.remove('modal-open');
      dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="modal"
      aria-label={label}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the dialog element itself.
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="modal__content">
        <button type="button" className="modal__close" onClick={onClose} aria-label={t('common.close')}>
          ×
        </button>
        {children}
      </div>
    </dialog>
  );
}
