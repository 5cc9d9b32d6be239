import { useState } from "react";
import { Link } from "react-router";
import { api, post } from "../api";
import { OutcomeLine, useAction } from "../components/SendPrepared";
import { SignInGate } from "../components/SignInGate";
import { explain } from "../errors";
import { shortHex } from "../format";
import { useLoaded } from "../loading";

interface Watched { id: number; url: string; scope: "page" | "domain"; created_at: string | null }
interface Portfolio { id: number; domain: string; url: string; created_at: string | null }
interface Found {
  image_url: string;
  page_url: string;
  width: number | null;
  height: number | null;
  registered: boolean;
  registration_id: string | null;
}

const CATALOGUE_PAGE = 100; // images of an own site read at once (the API's limit is 500)
const IMPORT_LIMIT = 20; // images added to My images in one request (the API's limit: the site is asked politely, one at a time)
const since = (iso: string | null) => (iso ? ` since ${iso.slice(0, 10)}` : "");
const remove = (path: string) => api(path, { method: "DELETE" });

/**
 * The places a rights-holder tells the crawler about: sites to watch for copies, their own sites
 * (never a place for hits; their images catalogued for registration), and domains they allow.
 */
export function Sites() {
  return (
    <SignInGate title="My sites" why="The sites you watch and your own sites are kept for your signed-in wallet.">
      <section>
        <h1>My sites</h1>
        <WatchList />
        <OwnSites />
        <Allowed />
      </section>
    </SignInGate>
  );
}

function WatchList() {
  const { value, error, reload } = useLoaded<Watched[]>(() => api("/api/v1/watch").then((b) => b.watch), []);
  const { busy, outcome, run } = useAction(reload);
  const [url, setUrl] = useState("");
  const [scope, setScope] = useState<"domain" | "page">("domain");
  const add = () => run(async () => { await post("/api/v1/watch", { url, scope }); setUrl(""); },
    `The crawler will visit ${url} first${scope === "domain" ? ", and the site from there" : ""}.`);
  return (
    <section aria-labelledby="watch-heading">
      <h2 id="watch-heading">Sites you watch</h2>
      <p className="muted">The crawler looks everywhere, but visits these first: a whole site, followed from the page you
        give, or one page only.</p>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); if (url.trim()) add(); }}>
        <label>Page or site to watch <input value={url} onChange={(e) => setUrl(e.target.value)}
                                             placeholder="https://copier.example/gallery" /></label>
        <label>Watch <select value={scope} onChange={(e) => setScope(e.target.value as "domain" | "page")}>
          <option value="domain">the whole site</option>
          <option value="page">this page only</option>
        </select></label>
        <button type="submit" disabled={busy || !url.trim()}>Watch</button>
      </form>
      <OutcomeLine outcome={outcome} />
      {error && <p role="alert" className="error">{error}</p>}
      {value?.length === 0 && <p className="muted">You watch no site yet.</p>}
      <ul className="site-list">
        {value?.map((w) => (
          <li key={w.id}>
            <span className="wrap">{w.url}</span> <span className="muted small">({w.scope === "domain" ? "whole site" : "this page only"}{since(w.created_at)})</span>{" "}
            <button className="secondary wrap" disabled={busy}
                    onClick={() => run(() => remove(`/api/v1/watch/${w.id}`), `You no longer watch ${w.url}.`)}>
              Stop watching {w.url}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function OwnSites() {
  const { value, error, reload } = useLoaded<Portfolio[]>(() => api("/api/v1/portfolios").then((b) => b.portfolios), []);
  const { busy, outcome, run } = useAction(reload);
  const [url, setUrl] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const add = () => run(async () => { await post("/api/v1/portfolios", { url }); setUrl(""); },
    `Recorded as your own site: copies there are never hits, and the crawler will catalogue its images.`);
  return (
    <section aria-labelledby="own-heading">
      <h2 id="own-heading">Your own sites</h2>
      <p className="muted">Where you publish your images yourself. Copies there are never reported as hits, and the
        crawler lists the images it finds there, so you can register those that are not yet.</p>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); if (url.trim()) add(); }}>
        <label>Your site <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://my-photos.example/" /></label>
        <button type="submit" disabled={busy || !url.trim()}>Add my site</button>
      </form>
      <OutcomeLine outcome={outcome} />
      {error && <p role="alert" className="error">{error}</p>}
      {value?.length === 0 && <p className="muted">You have recorded no site of your own.</p>}
      <ul className="site-list">
        {value?.map((p) => (
          <li key={p.id}>
            <span className="wrap">{p.domain}</span> <span className="muted small">(from {p.url}{since(p.created_at)})</span>{" "}
            <button className="secondary wrap" aria-expanded={open === p.id} onClick={() => setOpen(open === p.id ? null : p.id)}>
              Images found on {p.domain}
            </button>{" "}
            <button className="secondary wrap" disabled={busy}
                    onClick={() => run(() => remove(`/api/v1/portfolios/${p.id}`),
                      `${p.domain} is no longer your own site: copies of your images there will be reported as hits.`)}>
              Not my site: {p.domain}
            </button>
            {open === p.id && <Catalogue portfolio={p} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

interface Imported { imported: { image_url: string; created: boolean }[]; skipped: { image_url: string; reason: string }[] }

function Catalogue({ portfolio }: { portfolio: Portfolio }) {
  const [shown, setShown] = useState(CATALOGUE_PAGE);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [importing, setImporting] = useState(false);
  const [result, setResult] = useState<{ text: string; error: boolean } | null>(null);
  const importChosen = async () => {
    setImporting(true);
    setResult(null);
    try {
      const answer: Imported = await post(`/api/v1/portfolios/${portfolio.id}/import`, { image_urls: [...chosen] });
      const added = answer.imported.length;
      setResult({
        error: answer.skipped.length > 0,
        text: `${added} image${added === 1 ? "" : "s"} added to My images, ready to register.` +
          (answer.skipped.length ? ` Not added: ${answer.skipped.map((k) => `${k.image_url}: ${k.reason}`).join("; ")}.` : ""),
      });
      setChosen(new Set());
    } catch (e) {
      setResult({ text: explain(e), error: true });
    } finally {
      setImporting(false);
    }
  };
  const choose = (url: string) => {
    const next = new Set(chosen);
    if (next.has(url)) next.delete(url); else next.add(url);
    setChosen(next);
  };
  const { value, error } = useLoaded<{ images: Found[]; total: number }>(async () => {
    let images: Found[] = [];
    let total = 0;
    do { // the first `shown` images, a page at a time
      const b = await api(`/api/v1/portfolios/${portfolio.id}?limit=${CATALOGUE_PAGE}&offset=${images.length}`);
      images = [...images, ...b.images];
      total = b.total;
      if (b.images.length < CATALOGUE_PAGE) break;
    } while (images.length < shown);
    return { images, total };
  }, [portfolio.id, shown]);
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!value) return <p className="muted">Loading…</p>;
  const waiting = value.images.filter((i) => !i.registered).length;
  return (
    <div className="card" aria-label={`Images found on ${portfolio.domain}`}>
      {value.total === 0 ? (
        <p className="muted">The crawler has found no image on {portfolio.domain} yet; it visits new sites within minutes.</p>
      ) : (
        <p>{value.total} image{value.total === 1 ? "" : "s"} found; of those shown, {waiting} not registered
          yet: add them to <Link to="/images">My images</Link> (they are fetched from your site) and register them there.</p>
      )}
      <ul className="catalogue">
        {value.images.map((i) => (
          <li key={i.image_url} className="small">
            <a href={i.image_url} target="_blank" rel="noreferrer noopener" className="wrap">{i.image_url.split("/").pop() || i.image_url}</a>
            {i.width && i.height ? ` ${i.width}×${i.height}` : ""} on{" "}
            <a href={i.page_url} target="_blank" rel="noreferrer noopener" className="wrap">{i.page_url}</a> —{" "}
            {i.registered && i.registration_id
              ? <Link to={`/verify/${i.registration_id}`}>registered ({shortHex(i.registration_id)})</Link>
              : <>
                  <strong>not registered</strong>{" "}
                  <label className="check"><input type="checkbox" checked={chosen.has(i.image_url)}
                    disabled={!chosen.has(i.image_url) && chosen.size >= IMPORT_LIMIT}
                    onChange={() => choose(i.image_url)} /> Add {i.image_url.split("/").pop() || i.image_url} to My images</label>
                </>}
          </li>
        ))}
      </ul>
      {waiting > 0 && (
        <p><button disabled={importing || chosen.size === 0} onClick={importChosen}>
          {importing ? "Fetching from your site…" : `Add ${chosen.size} chosen to My images`}
        </button> <span className="muted small">(at most {IMPORT_LIMIT} at once)</span></p>
      )}
      {result && <p role={result.error ? "alert" : "status"} className={result.error ? "error" : "ok"}>{result.text}</p>}
      {value.images.length < value.total && (
        <button className="secondary" onClick={() => setShown(value.images.length + CATALOGUE_PAGE)}>
          Show more ({value.images.length} of {value.total} shown)
        </button>
      )}
    </div>
  );
}

function Allowed() {
  const { value, error, reload } = useLoaded<string[]>(() => api("/api/v1/whitelist").then((b) => b.domains), []);
  const { busy, outcome, run } = useAction(reload);
  const [domain, setDomain] = useState("");
  const add = () => run(async () => { await post("/api/v1/whitelist", { domain }); setDomain(""); },
    `${domain} may use your images: its hits are legal, now and when found later.`);
  return (
    <section aria-labelledby="allowed-heading">
      <h2 id="allowed-heading">Domains you allow</h2>
      <p className="muted">Partners and clients who may use your images: hits there are marked legal and never become a case.</p>
      <form className="inline" onSubmit={(e) => { e.preventDefault(); if (domain.trim()) add(); }}>
        <label>Domain to allow <input value={domain} onChange={(e) => setDomain(e.target.value)} placeholder="partner.example" /></label>
        <button type="submit" disabled={busy || !domain.trim()}>Allow</button>
      </form>
      <OutcomeLine outcome={outcome} />
      {error && <p role="alert" className="error">{error}</p>}
      {value?.length === 0 && <p className="muted">You allow no domain.</p>}
      <ul className="site-list">
        {value?.map((d) => (
          <li key={d}>
            <span className="wrap">{d}</span>{" "}
            <button className="secondary wrap" disabled={busy}
                    onClick={() => run(() => remove(`/api/v1/whitelist/${encodeURIComponent(d)}`),
                      `${d} is no longer allowed; hits already legal keep their verdict.`)}>
              Stop allowing {d}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
