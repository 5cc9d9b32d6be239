// Reading something from the API for a page: its value (null until read), the error in words,
// and a reload for after an action changed it.
import { useCallback, useEffect, useState, type DependencyList } from "react";
import { explain } from "./errors";

/** Reads with `read` now and whenever `deps` (what `read` depends on) change; `read` may answer null for "nothing to read yet". */
export function useLoaded<T>(read: () => Promise<T> | null, deps: DependencyList) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    const reading = read();
    if (reading === null) return;
    try {
      setValue(await reading);
      setError(null);
    } catch (e) {
      setError(explain(e));
    }
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  return { value, error, reload };
}
