import { useState } from 'preact/hooks';
import { ApiError } from '../api';

export type FieldErrors = Record<string, string | undefined>;

/** Shared error state for a form: a top-level message plus per-field messages. */
export function useFormErrors() {
  const [message, setMessage] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});

  const clear = () => {
    setMessage(null);
    setFields({});
  };

  const fromError = (err: unknown, known: string[]) => {
    if (err instanceof ApiError) {
      setMessage(err.message);
      if (err.field && known.includes(err.field)) {
        setFields({ [err.field]: err.message });
        focusField(err.field);
      } else {
        setFields({});
      }
    } else {
      setMessage('Something went wrong. Please try again.');
      setFields({});
    }
  };

  const fromValidation = (errs: FieldErrors): boolean => {
    const keys = Object.keys(errs).filter((k) => errs[k]);
    if (keys.length === 0) return false;
    setFields(errs);
    setMessage(keys.length === 1 ? errs[keys[0]]! : 'Please fix the highlighted fields.');
    focusField(keys[0]);
    return true;
  };

  const clearField = (name: string) => {
    if (fields[name]) setFields({ ...fields, [name]: undefined });
  };

  return { message, fields, clear, fromError, fromValidation, clearField };
}

function focusField(id: string) {
  requestAnimationFrame(() => {
    const el = document.getElementById(id);
    if (el instanceof HTMLElement) el.focus();
  });
}
