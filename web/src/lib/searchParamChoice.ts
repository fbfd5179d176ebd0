import { useSearchParams } from 'react-router';

/**
 * One of `choices`, kept in the URL's `name` search parameter (absent for `fallback`, and read
 * as `fallback` when it holds anything else); setting it replaces the history entry. The
 * result is what `Tabs` takes as `value` and `onChange`.
 */
export function useSearchParamChoice<T extends string>(
  name: string,
  choices: readonly T[],
  fallback: T,
): { value: T; onChange: (value: T) => void } {
  const [params, setParams] = useSearchParams();
  const raw = params.get(name);
  const value = choices.includes(raw as T) ? (raw as T) : fallback;
  const onChange = (next: T) => setParams(next === fallback ? {} : { [name]: next }, { replace: true });
  return { value, onChange };
}
