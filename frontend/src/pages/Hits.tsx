import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";
import { api } from "../api";
import { explain } from "../errors";
import { shortHex, utc } from "../format";
import { useApp } from "../wallet";

type Verdict = "legal" | "illegal" | "unsure" | "not_a_match";

interface Hit {
  id: number;
  registration_id: string;
  page_url: string;
  image_url: string;
  domain: string;
  score: number;
  status: "active" | "gone";
  found_at: string;
  verdict: Verdict | null;
  verdict_by: string | null;
  copy_url: string | null;
  registered_image_url: string | null;
  evidence?: { warc: { url: string } | null; screenshot: { url: string } | null };
}

interface Group {
  key: string;
  count: number;
  new: number;
  latest_found_at: string | null;
}

const VERDICTS: { value: Verdict; label: string }[] = [
  { value: "illegal", label: "Illegal" },
  { value: "legal", label: "Legal" },
  { value: "unsure", label: "Unsure" },
  { value: "not_a_match", label: "Not a match" },
];
const VERDICT_TEXT: Record<string, string> = {
  new: "new", legal: "legal", illegal: "illegal", unsure: "unsure", not_a_match: "not a match",
};

const HITS_PAGE = 100; // hits of an opened group read at once (the API's limit is 500)

/** The rights-holder's inbox of hits: group, filter, compare, triage (one or many), whitelist. */
export function Hits() {
  const app = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!app.address || !app.session) {
    const signIn = () => {
      setError(null);
      setBusy(true);
      app.signIn().catch((e) => setError(explain(e))).finally(() => setBusy(false));
    };
    return (
      <section>
        <h1>Hits</h1>
        <div className="empty">
          <h2>{app.address ? "Sign in to see your hits" : "Connect your wallet to see your hits"}</h2>
          <p>Hits are copies of your registered images the crawler found on the web; only you see yours.</p>
          {app.address && (
            <button onClick={signIn} disabled={busy}>{busy ? "Waiting for your wallet…" : "Sign in with Ethereum"}</button>
          )}
          {error && <p role="alert" className="error">{error}</p>}
        </div>
      </section>
    );
  }
  return <Inbox />;
}

function Inbox() {
  const [by, setBy] = useState<"registration" | "domain">("registration");
  const [filter, setFilter] = useState({ verdict: "new", country: "", domain: "" });
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [hits, setHits] = useState<Hit[]>([]);
  const [total, setTotal] = useState(0);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [whitelist, setWhitelist] = useState("");

  const query = useCallback((extra: Record<string, string> = {}) => {
    const params = Object.entries({ ...filter, ...extra }).filter(([, v]) => v);
    return new URLSearchParams(params);
  }, [filter]);
  const [shown, setShown] = useState(HITS_PAGE);
  const load = useCallback(() => {
    api(`/api/v1/hits/groups?${query({ by })}`).then(
      (b) => setGroups(b.groups), (e) => setMessage({ error: true, text: explain(e) }));
    if (open) {
      (async () => {
        let found: Hit[] = [];
        let all = 0;
        do { // the group's first `shown` hits, a page at a time
          const b = await api(`/api/v1/hits?${query({ [by]: open, limit: String(HITS_PAGE), offset: String(found.length) })}`);
          found = [...found, ...b.hits];
          all = b.total;
          if (b.hits.length < HITS_PAGE) break;
        } while (found.length < shown);
        setHits(found);
        setTotal(all);
      })().catch((e) => setMessage({ error: true, text: explain(e) }));
    }
  }, [by, open, query, shown]);
  useEffect(load, [load]);
  useEffect(() => { setSelected(new Set()); setAllMatching(false); setShown(HITS_PAGE); }, [by, open, filter]);

  const triage = async (verdict: Verdict, ids?: number[]) => {
    setMessage(null);
    const body = ids ? { verdict, hit_ids: ids }
      : allMatching ? { verdict, filter: Object.fromEntries(query({ [by]: open ?? "" })) }
      : { verdict, hit_ids: [...selected] };
    try {
      const answer = await api("/api/v1/hits/triage", { method: "POST", body: JSON.stringify(body) });
      const skipped = answer.skipped.map((s: { id: number; reason: string }) => `hit ${s.id}: ${s.reason}`);
      setMessage({
        error: skipped.length > 0,
        text: `${answer.updated} hit${answer.updated === 1 ? "" : "s"} marked ${VERDICT_TEXT[verdict]}.` +
          (skipped.length ? ` Not changed: ${skipped.join("; ")}.` : ""),
      });
      setSelected(new Set());
      setAllMatching(false);
      load();
    } catch (e) {
      setMessage({ error: true, text: explain(e) });
    }
  };
  const addWhitelist = async (domain: string) => {
    setMessage(null);
    try {
      const answer = await api("/api/v1/whitelist", { method: "POST", body: JSON.stringify({ domain }) });
      setMessage({ error: false, text: `${answer.domain} is whitelisted: ${answer.hits_made_legal} hit(s) are now legal.` });
      setWhitelist("");
      load();
    } catch (e) {
      setMessage({ error: true, text: explain(e) });
    }
  };
  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id); else next.add(id);
    setSelected(next);
  };
  const count = allMatching ? total : selected.size;

  return (
    <section>
      <h1>Hits</h1>
      <form className="grid2 hits-filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>Group by
          <select value={by} onChange={(e) => { setBy(e.target.value as "registration" | "domain"); setOpen(null); }}>
            <option value="registration">Registered image</option>
            <option value="domain">Domain</option>
          </select>
        </label>
        <label>Verdict
          <select value={filter.verdict} onChange={(e) => setFilter({ ...filter, verdict: e.target.value })}>
            <option value="new">New (not triaged)</option>
            <option value="">All but not-a-match</option>
            {VERDICTS.map((v) => <option key={v.value} value={v.value}>{v.label}</option>)}
          </select>
        </label>
        <label>Country (ISO code, e.g. DE)
          <input value={filter.country} maxLength={2}
                 onChange={(e) => setFilter({ ...filter, country: e.target.value.toUpperCase() })} />
        </label>
        <label>Domain
          <input value={filter.domain} onChange={(e) => setFilter({ ...filter, domain: e.target.value.trim() })} />
        </label>
      </form>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); if (whitelist) addWhitelist(whitelist); }}>
        <label>Whitelist a domain <input value={whitelist} onChange={(e) => setWhitelist(e.target.value)}
                                         placeholder="partner.example" /></label>
        <button type="submit" disabled={!whitelist}>Whitelist</button>
      </form>
      {message && <p role={message.error ? "alert" : "status"} className={message.error ? "error" : "ok"}>{message.text}</p>}
      {groups === null ? <p className="muted">Loading…</p> : groups.length === 0 ? (
        <div className="empty">
          <h2>No hits here</h2>
          <p>
            {filter.verdict === "new" ? "Nothing is waiting for your verdict. " : "No hits match these filters. "}
            The crawler records a hit when it finds a copy of one of your <Link to="/images">registered images</Link>.
            Watch a site you suspect on <Link to="/sites">My sites</Link> (or crawl it now with <code>copytrack crawl</code>),
            or report a copy by hand with <code>copytrack hits report PAGE_URL IMAGE_URL</code>.
          </p>
        </div>
      ) : (
        <ul className="hit-groups">
          {groups.map((g) => (
            <li key={g.key}>
              <button aria-expanded={open === g.key} onClick={() => setOpen(open === g.key ? null : g.key)}>
                {by === "registration" ? `Image ${shortHex(g.key)}` : g.key} — {g.count} hit{g.count === 1 ? "" : "s"}, {g.new} new
              </button>
              {open === g.key && (
                <div className="hit-group">
                  <div className="actions" role="group" aria-label="Bulk action">
                    <label className="check"><input type="checkbox" checked={allMatching}
                      onChange={(e) => setAllMatching(e.target.checked)} /> All {total} matching the filter</label>
                    {VERDICTS.map((v) => (
                      <button key={v.value} disabled={count === 0} onClick={() => triage(v.value)}>
                        Mark {count} {v.label.toLowerCase()}
                      </button>
                    ))}
                  </div>
                  <ul className="hit-list">
                    {hits.map((h) => (
                      <HitCard key={h.id} hit={h} selected={allMatching || selected.has(h.id)}
                               onSelect={() => toggle(h.id)} onTriage={(v) => triage(v, [h.id])}
                               onWhitelist={() => addWhitelist(h.domain)} />
                    ))}
                  </ul>
                  {hits.length < total && (
                    <p><button className="secondary" onClick={() => setShown(hits.length + HITS_PAGE)}>
                      Show more ({hits.length} of {total} shown)
                    </button></p>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function HitCard({ hit, selected, onSelect, onTriage, onWhitelist }: {
  hit: Hit; selected: boolean; onSelect(): void; onTriage(v: Verdict): void; onWhitelist(): void;
}) {
  const [reveal, setReveal] = useState(50);
  const [evidence, setEvidence] = useState<Hit["evidence"] | null>(null);
  useEffect(() => { api(`/api/v1/hits/${hit.id}`).then((b) => setEvidence(b.evidence), () => setEvidence(null)); }, [hit.id]);
  const name = `hit ${hit.id} on ${hit.domain}`;
  return (
    <li className="card hit" aria-label={name}>
      <label className="check"><input type="checkbox" checked={selected} onChange={onSelect} /> Select {name}</label>
      <p className="small wrap">
        Found {utc(Date.parse(hit.found_at) / 1000)} on <a href={hit.page_url} rel="noreferrer noopener" target="_blank">{hit.page_url}</a>
        {" "}({hit.status}, match {Math.round(hit.score * 100)}%) — verdict:{" "}
        <strong>{VERDICT_TEXT[hit.verdict ?? "new"]}</strong>{hit.verdict_by && hit.verdict_by !== "owner" ? ` (${hit.verdict_by})` : ""}
      </p>
      <div className="hit-compare">
        <figure>
          {hit.registered_image_url ? <img src={hit.registered_image_url} alt={`Your registered image ${shortHex(hit.registration_id)}`} />
            : <p className="muted">The registered image's file is not on this server.</p>}
          <figcaption>Registered</figcaption>
        </figure>
        <figure>
          {hit.copy_url ? <img src={hit.copy_url} alt={`The copy found on ${hit.domain}`} />
            : <p className="muted">The copy's bytes were not kept.</p>}
          <figcaption>Found copy</figcaption>
        </figure>
      </div>
      {hit.registered_image_url && hit.copy_url && (
        <div className="hit-overlay">
          <div className="hit-overlay-stage">
            <img src={hit.registered_image_url} alt="" />
            <img src={hit.copy_url} alt="" style={{ clipPath: `inset(0 0 0 ${reveal}%)` }} />
          </div>
          <label>Overlay: registered ← → copy
            <input type="range" min={0} max={100} value={reveal} onChange={(e) => setReveal(Number(e.target.value))} />
          </label>
        </div>
      )}
      <p className="small">
        {evidence?.warc && <a href={evidence.warc.url} download>WARC evidence of {hit.domain}</a>}
        {evidence?.screenshot && <> · <a href={evidence.screenshot.url} target="_blank" rel="noreferrer">Screenshot</a></>}
      </p>
      <div className="actions" role="group" aria-label={`Verdict for ${name}`}>
        {VERDICTS.map((v) => (
          <button key={v.value} aria-pressed={hit.verdict === v.value} onClick={() => onTriage(v.value)}>{v.label}</button>
        ))}
        <button onClick={onWhitelist}>Whitelist {hit.domain}</button>
      </div>
      {hit.verdict === "illegal" && (
        <p className="small">
          <Link to={`/cases?${new URLSearchParams({ registration: hit.registration_id, domain: hit.domain })}`}>Open a case against {hit.domain}</Link>
        </p>
      )}
    </li>
  );
}
