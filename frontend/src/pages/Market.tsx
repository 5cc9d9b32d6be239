import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { parseUnits } from "viem";
import { api, upload } from "../api";
import { DropZone } from "../components/DropZone";
import { PendingList } from "../components/PendingList";
import { OfferCard } from "../components/OfferCard";
import { explain } from "../errors";
import { shortHex } from "../format";
import { DECIMALS, LICENCE_TYPES, type Offer } from "../market";

const PER_PAGE = 12;
const SORTS: Record<string, string> = { newest: "Newest first", price: "Cheapest first", "-price": "Dearest first", expiry: "Ending soonest" };
const EMPTY = { q: "", licence_type: "", territory: "", currency: "", min_price: "", max_price: "", sort: "newest" };

interface PictureMatch {
  id: string;
  match: "exact" | "perceptual";
  offers: Offer[];
}

/** The query string for the filters; prices typed in ETH or CPY become base units (18 decimals). */
function query(filters: typeof EMPTY, page: number): string {
  const params = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  for (const [name, value] of Object.entries(filters)) {
    if (!value.trim()) continue;
    params.set(name, name.endsWith("_price") ? parseUnits(value.trim(), DECIMALS).toString() : value.trim());
  }
  return params.toString();
}

/** Buyers: browse and search the licence offers, also by dropping a picture, and buy one. */
export function Market() {
  const [draft, setDraft] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<{ offers: Offer[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picture, setPicture] = useState<{ name: string; matches: PictureMatch[] | null; error?: string } | null>(null);

  const load = useCallback(() => {
    setError(null);
    let path: string;
    try {
      path = `/api/v1/offers?${query(filters, page)}`;
    } catch {
      setError("A price is a number such as 0.05 (in ETH or CPY). Correct it and search again.");
      return;
    }
    api(path).then(setResult, (e) => setError(explain(e)));
  }, [filters, page]);
  useEffect(load, [load]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    setPage(1);
    setFilters(draft);
  };
  const field = (name: keyof typeof EMPTY) => ({
    id: `market-${name}`,
    value: draft[name],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
  });

  const lookUp = async (files: File[]) => {
    setPicture({ name: files[0].name, matches: null });
    const form = new FormData();
    form.append("file", files[0]);
    try {
      const answer = await upload("/api/v1/lookup", form, () => undefined);
      setPicture({ name: files[0].name, matches: answer.matches });
    } catch (e) {
      setPicture({ name: files[0].name, matches: [], error: explain(e) });
    }
  };

  const pages = result ? Math.max(1, Math.ceil(result.total / PER_PAGE)) : 1;
  return (
    <section>
      <h1>Licence marketplace</h1>
      <p>
        License a registered image from its owner: pay in ETH or CPY into the market's escrow, and the licence is
        recorded on the chain for the domains it covers. You can dispute a purchase within the escrow window.
      </p>
      <PendingList kind="market" onChange={load} />

      <div className="card">
        <h2>Find offers by picture</h2>
        <DropZone label="Choose a picture to find its licence offers" onFiles={lookUp} />
        <div aria-live="polite">
          {picture && !picture.matches && <p role="status">Looking up {picture.name}…</p>}
          {picture?.error && <p role="alert" className="error">{picture.error}</p>}
          {picture?.matches && !picture.error && picture.matches.length === 0 && (
            <p className="empty">Nobody has registered {picture.name} or a picture like it, so nobody offers a licence for it.</p>
          )}
          {picture?.matches?.map((m) => (
            <div key={m.id}>
              <h3>
                {m.match === "exact" ? "Exactly this file" : "A matching picture"}:{" "}
                <Link to={`/verify/${m.id}`} className="mono">{shortHex(m.id, 8)}</Link>
              </h3>
              {m.offers.length === 0 ? (
                <p className="empty">Registered, but its owner offers no licence for it right now.</p>
              ) : (
                m.offers.map((o) => <OfferCard key={o.hash} offer={o} />)
              )}
            </div>
          ))}
        </div>
      </div>

      <form className="card filters" onSubmit={search} aria-labelledby="market-search-h">
        <h2 id="market-search-h">Search the offers</h2>
        <div className="filter-grid">
          <div>
            <label htmlFor="market-q">Words in the title or collection</label>
            <input type="search" {...field("q")} maxLength={200} />
          </div>
          <div>
            <label htmlFor="market-licence_type">Licence type</label>
            <select {...field("licence_type")}>
              <option value="">any</option>
              {Object.entries(LICENCE_TYPES).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </div>
          <div>
            <label htmlFor="market-territory">Country (ISO code)</label>
            <input {...field("territory")} maxLength={2} placeholder="DE" />
          </div>
          <div>
            <label htmlFor="market-currency">Currency</label>
            <select {...field("currency")}>
              <option value="">ETH or CPY</option>
              <option value="ETH">ETH</option>
              <option value="CPY">CPY</option>
            </select>
          </div>
          <div>
            <label htmlFor="market-min_price">Lowest price</label>
            <input {...field("min_price")} inputMode="decimal" placeholder="0.01" />
          </div>
          <div>
            <label htmlFor="market-max_price">Highest price</label>
            <input {...field("max_price")} inputMode="decimal" placeholder="0.5" />
          </div>
          <div>
            <label htmlFor="market-sort">Order</label>
            <select {...field("sort")}>
              {Object.entries(SORTS).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </div>
        </div>
        <div className="actions">
          <button type="submit">Search</button>
          <button type="button" className="secondary" onClick={() => { setDraft(EMPTY); setFilters(EMPTY); setPage(1); }}>
            Clear
          </button>
        </div>
      </form>

      <div aria-live="polite">
        {error && <p role="alert" className="error">{error}</p>}
        {!result && !error && <p role="status">Loading the offers…</p>}
        {result && result.total === 0 && (
          <div className="empty">
            <h2>No offers found</h2>
            <p>
              Nothing in the book matches these filters. Clear them, try other words, or drop the picture you want to
              use above: if it is registered, you will see whether its owner offers a licence.
            </p>
          </div>
        )}
        {result && result.total > 0 && (
          <>
            <h2>{result.total === 1 ? "1 offer" : `${result.total} offers`}</h2>
            {result.offers.map((o) => <OfferCard key={o.hash} offer={o} />)}
            {pages > 1 && (
              <nav className="actions" aria-label="Pages of offers">
                <button className="secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous page</button>
                <span>Page {page} of {pages}</span>
                <button className="secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next page</button>
              </nav>
            )}
          </>
        )}
      </div>
    </section>
  );
}
