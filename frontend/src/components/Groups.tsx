import { useId, useState } from "react";
import { api, post } from "../api";
import { explain } from "../errors";

export interface Group {
  id: number;
  name: string;
}

/** Create and rename the collections (or categories) images are organised in. */
export function Groups({ kind, title, groups, onChange }: {
  kind: "collections" | "categories";
  title: string;
  groups: Group[];
  onChange(): void;
}) {
  const id = useId();
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<number | null>(null);
  const [rename, setRename] = useState("");
  const [error, setError] = useState<string | null>(null);
  const run = (action: Promise<unknown>) => {
    setError(null);
    action.then(onChange, (e) => setError(explain(e)));
  };
  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>{title}</h3>
      {groups.length === 0 && <p className="muted">None yet. Create one to sort your images.</p>}
      <ul className="groups">
        {groups.map((g) =>
          editing === g.id ? (
            <li key={g.id}>
              <form onSubmit={(e) => { e.preventDefault(); run(api(`/api/v1/${kind}/${g.id}`, { method: "PATCH", body: JSON.stringify({ name: rename }) }).then(() => setEditing(null))); }}>
                <label className="sr-only" htmlFor={`${id}-r${g.id}`}>New name for {g.name}</label>
                <input id={`${id}-r${g.id}`} value={rename} onChange={(e) => setRename(e.target.value)} />
                <button type="submit">Save</button>
                <button type="button" className="secondary" onClick={() => setEditing(null)}>Cancel</button>
              </form>
            </li>
          ) : (
            <li key={g.id}>
              {g.name}{" "}
              <button className="link" aria-label={`Rename ${g.name}`} onClick={() => { setEditing(g.id); setRename(g.name); }}>Rename</button>
            </li>
          ),
        )}
      </ul>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); run(post(`/api/v1/${kind}`, { name }).then(() => setName(""))); }}>
        <label htmlFor={`${id}-new`}>New {kind === "collections" ? "collection" : "category"}</label>
        <input id={`${id}-new`} value={name} onChange={(e) => setName(e.target.value)} required />
        <button type="submit" disabled={!name.trim()}>Create</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}
