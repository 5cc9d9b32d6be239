import { useId, useState } from "react";
import { Link } from "react-router";
import { explain, isRejection } from "../errors";
import { shortHex, utc } from "../format";
import { buyOffer, domainList, LICENCE_TYPES, price, term, territory, type Offer } from "../market";
import { notReady, useApp } from "../wallet";

/** One offer of the book: the image, owner, terms and price, and buying it with the wallet. */
export function OfferCard({ offer }: { offer: Offer }) {
  const app = useApp();
  const id = useId();
  const [domains, setDomains] = useState("");
  const [stage, setStage] = useState<string | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const name = offer.title ?? `registration ${shortHex(offer.registration_id, 6)}`;
  const buyerNamesDomains = offer.domains.length === 0;
  const left = offer.max_sales - offer.sold;
  const wrongChain = app.address && app.chain && app.walletChainId !== app.chain.id;
  const waiting = notReady(app);

  const buy = async () => {
    if (!app.publicClient || !app.walletClient || !app.address) return;
    setMessage(null);
    const named = buyerNamesDomains ? domainList(domains) : [];
    if (buyerNamesDomains && named.length === 0) {
      setMessage({ error: true, text: "Name the domain(s) the licence covers, such as shop.example, then buy." });
      return;
    }
    setStage("Checking the purchase with the market contract…");
    try {
      const label = `buy the ${offer.licence_type} licence for ${name}`;
      await buyOffer(app.publicClient, app.walletClient, app.address, offer, named, label, setStage);
      setMessage({ error: false, text: "Sent. Your licence appears under My licences once its block is final." });
    } catch (e) {
      setMessage({ error: true, text: isRejection(e) ? `${explain(e)} Press Buy to try again.` : explain(e) });
    } finally {
      setStage(null);
    }
  };

  return (
    <article className="card offer" aria-labelledby={`${id}-h`}>
      {offer.cid ? (
        <img className="thumb" src={`/ipfs/${offer.cid}`} alt={`The image licensed: ${name}`} loading="lazy" />
      ) : (
        <div className="thumb" aria-hidden="true" />
      )}
      <div>
        <h3 id={`${id}-h`}>{name}</h3>
        <p className="price" data-testid="price">{price(offer.price, offer.currency)}</p>
        <dl>
          <dt>Licence</dt>
          <dd>{LICENCE_TYPES[offer.licence_type] ?? offer.licence_type}, {term(offer.duration)}, {offer.seats} seat(s)</dd>
          <dt>Territory</dt>
          <dd>{territory(offer.countries)}</dd>
          <dt>Domains</dt>
          <dd>{buyerNamesDomains ? "the ones you name when you buy" : `${offer.domains.length} named by the owner`}</dd>
          <dt>Owner</dt>
          <dd className="mono wrap">{offer.seller}</dd>
          {offer.buyer && (
            <>
              <dt>Reserved for</dt>
              <dd className="mono wrap">{offer.buyer}{offer.buyer === app.address ? " (you)" : ""}</dd>
            </>
          )}
          <dt>Available</dt>
          <dd>{left} of {offer.max_sales} until {utc(BigInt(offer.expiry))}</dd>
        </dl>
        <p className="small">
          <Link to={`/verify/${offer.registration_id}`}>Proof of registration</Link>
          {offer.collection && <> · collection {offer.collection}</>}
        </p>
        {!app.address ? (
          <p className="muted">Connect your wallet (at the top) to buy this licence.</p>
        ) : (
          <div className="buy">
            {buyerNamesDomains && (
              <>
                <label htmlFor={`${id}-domains`}>Domains the licence covers</label>
                <input
                  id={`${id}-domains`}
                  value={domains}
                  onChange={(e) => setDomains(e.target.value)}
                  placeholder="shop.example, blog.example"
                  aria-describedby={`${id}-domains-help`}
                />
                <p id={`${id}-domains-help`} className="muted small">Separate several with commas (at most 8).</p>
              </>
            )}
            {wrongChain && (
              <p className="warning">Your wallet is on another network: switch it to {app.chain!.name} (at the top) to buy.</p>
            )}
            {waiting && <p className="muted small">{waiting}</p>}
            <button onClick={buy} disabled={!!stage || !!wrongChain || !!waiting}>
              Buy for {price(offer.price, offer.currency)}
            </button>
          </div>
        )}
        <div aria-live="polite">
          {stage && <p role="status">{stage}</p>}
          {message && <p role={message.error ? "alert" : "status"} className={message.error ? "error" : "ok"}>{message.text}</p>}
        </div>
      </div>
    </article>
  );
}
