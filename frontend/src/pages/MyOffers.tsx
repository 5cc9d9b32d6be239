import { useEffect, useState } from "react";
import { parseEther } from "viem";
import { api, fetchPages, post } from "../api";
import { OutcomeLine, useAction, useSendPrepared } from "../components/SendPrepared";
import { Credits } from "../components/Credits";
import { SignInGate } from "../components/SignInGate";
import { useChainTime } from "../chainclock";
import { shortHex, utc } from "../format";
import { LICENCE_TYPES, price, territory, term, type Offer } from "../market";
import { useLoaded } from "../loading";
import { signTyped } from "../registration";
import type { ApiTransaction } from "../transactions";
import { notReady, useApp } from "../wallet";

interface MyImage {
  id: number;
  title: string | null;
  filename: string;
  sha256: string;
  status: string;
}

const DAY = 86_400;

/** A rights-holder's licence offers: publish one for a registered image (signed, no gas), see and cancel them, withdraw the market's credits. */
export function MyOffers() {
  return (
    <SignInGate title="My offers" why="Your offers are signed with your wallet; they cost no gas until you cancel one.">
      <OffersWorkspace />
    </SignInGate>
  );
}

function OffersWorkspace() {
  const { address } = useApp();
  // every live offer of the seller, page by page (a seller may have more than a page of them)
  const { value: offers, error, reload: load } = useLoaded(
    async () => (await fetchPages<Offer>(`/api/v1/offers?owner=${address}`, "offers", 1_000, 100)).items, [address]);
  return (
    <section>
      <h1>My offers</h1>
      {error && <p role="alert" className="error">{error}</p>}
      <PublishForm published={load} />
      <OfferList offers={offers} reload={load} />
      <Credits sources={["market"]} why="What buyers paid you is credited once each licence's escrow is released; you withdraw it to your wallet yourself." />
    </section>
  );
}

function PublishForm({ published }: { published(): Promise<void> }) {
  const app = useApp();
  const { walletClient, address } = app;
  const waiting = notReady(app);
  const chainNow = useChainTime();
  const [images, setImages] = useState<MyImage[] | null>(null);
  const [form, setForm] = useState({ registration: "", amount: "", currency: "ETH", type: "standard", countries: "", days: "365", sales: "1", expiry: "30" });
  const { busy, outcome, run } = useAction(published);
  useEffect(() => {
    api("/api/v1/images?status=registered&limit=1000").then((answer) => setImages(answer.images), () => setImages([]));
  }, []);
  const set = (name: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setForm({ ...form, [name]: e.target.value });

  const publish = (event: React.FormEvent) => {
    event.preventDefault();
    run(async () => {
      let units: bigint;
      try {
        units = parseEther(form.amount.replace(/,/g, ""));
      } catch {
        throw new Error(`${form.amount} is not a price; write it like 0.05`);
      }
      const countries = form.countries.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase());
      const draft = await post("/api/v1/offers/draft", {
        seller: address, registration_id: form.registration, price: units.toString(), currency: form.currency,
        licence_type: form.type, countries, duration: Number(form.days) * DAY, max_sales: Number(form.sales),
        expiry: chainNow + Number(form.expiry) * DAY,
      });
      if (!walletClient || !address) throw new Error(waiting ?? "Connect your wallet first.");
      const signature = await signTyped(walletClient, address, draft.typed_data);
      await post("/api/v1/offers", { typed_data: draft.typed_data, signature });
    }, "Published: buyers find the offer in the marketplace now.");
  };

  if (images === null) return <p role="status">Loading your images…</p>;
  if (images.length === 0) {
    return (
      <div className="empty">
        <h2>No registered image yet</h2>
        <p>Register an image on <a href="/images">My images</a> first; once it is out of its claim window you can offer licences for it here.</p>
      </div>
    );
  }
  return (
    <form className="card stack" onSubmit={publish} aria-labelledby="publish-h">
      <h2 id="publish-h">Publish a licence offer</h2>
      <p className="small">You sign the offer in your wallet (no transaction, no gas); the marketplace checks it as the contract would.</p>
      <label htmlFor="offer-image">Image</label>
      <select id="offer-image" value={form.registration} onChange={set("registration")} required>
        <option value="">Choose a registered image…</option>
        {images.map((i) => <option key={i.id} value={i.sha256}>{i.title ?? i.filename} ({shortHex(i.sha256, 6)})</option>)}
      </select>
      <label htmlFor="offer-price">Price</label>
      <input id="offer-price" inputMode="decimal" autoComplete="off" placeholder="0.05" value={form.amount} onChange={set("amount")} required />
      <label htmlFor="offer-currency">Currency</label>
      <select id="offer-currency" value={form.currency} onChange={set("currency")}>
        <option value="ETH">ETH</option>
        <option value="CPY">CPY</option>
      </select>
      <label htmlFor="offer-type">Licence type</label>
      <select id="offer-type" value={form.type} onChange={set("type")}>
        {Object.entries(LICENCE_TYPES).map(([key, name]) => <option key={key} value={key}>{name}</option>)}
      </select>
      <label htmlFor="offer-countries">Countries (ISO codes separated by commas; empty: worldwide)</label>
      <input id="offer-countries" autoComplete="off" placeholder="DE, AT" value={form.countries} onChange={set("countries")} />
      <label htmlFor="offer-days">Licence term in days</label>
      <input id="offer-days" type="number" min={1} value={form.days} onChange={set("days")} required />
      <label htmlFor="offer-sales">How many licences to sell</label>
      <input id="offer-sales" type="number" min={1} value={form.sales} onChange={set("sales")} required />
      <label htmlFor="offer-expiry">Offer open for days</label>
      <input id="offer-expiry" type="number" min={1} value={form.expiry} onChange={set("expiry")} required />
      <button type="submit" disabled={busy || !!waiting}>{busy ? "Waiting for your wallet…" : "Sign and publish"}</button>
      {waiting && <p className="muted small">{waiting}</p>}
      <OutcomeLine outcome={outcome} />
    </form>
  );
}

function OfferList({ offers, reload }: { offers: Offer[] | null; reload(): Promise<void> }) {
  const { address } = useApp();
  const { send, busy, outcome } = useSendPrepared();
  const cancel = (offer: Offer) =>
    send(async () => (await post(`/api/v1/offers/${offer.hash}/cancel`, { seller: address })).transactions as ApiTransaction[],
      `cancel the offer ${shortHex(offer.hash, 6)}`, "Cancelled: the offer left the marketplace.").then(reload);
  if (!offers) return <p role="status">Loading your offers…</p>;
  return (
    <div className="card">
      <h2>Your live offers</h2>
      {offers.length === 0 ? <p className="muted">No live offer. Publish one above; offers leave by themselves when sold out, expired or cancelled.</p> : (
        <div className="table-scroll">
          <table className="stacked">
            <caption className="sr-only">Your offers in the marketplace</caption>
            <thead><tr><th scope="col">Image</th><th scope="col">Licence</th><th scope="col">Price</th><th scope="col">Sold</th><th scope="col">Open until</th><th scope="col">Action</th></tr></thead>
            <tbody>
              {offers.map((o) => (
                <tr key={o.hash}>
                  <th scope="row" className="wrap">{o.title ?? shortHex(o.registration_id, 6)}</th>
                  <td data-label="Licence">{LICENCE_TYPES[o.licence_type] ?? o.licence_type}, {territory(o.countries)}, {term(o.duration)}</td>
                  <td data-label="Price">{price(o.price, o.currency)}</td>
                  <td data-label="Sold">{o.sold} of {o.max_sales}</td>
                  <td data-label="Open until">{utc(Number(o.expiry))}</td>
                  <td><button className="secondary" disabled={busy} onClick={() => cancel(o)} aria-label={`Cancel the offer ${shortHex(o.hash, 6)}`}>Cancel</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <OutcomeLine outcome={outcome} />
    </div>
  );
}
