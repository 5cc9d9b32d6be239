import { LicenseMarket } from "virtual:abis";
import { useCallback, useEffect, useId, useState } from "react";
import { Link } from "react-router";
import { api, fetchPages, post } from "../api";
import { useChainTime } from "../chainclock";
import { LicenceTerms } from "../components/LicenceTerms";
import { PendingList } from "../components/PendingList";
import { explain } from "../errors";
import { duration, utc } from "../format";
import { sendStep, type Certificate, type Licence } from "../market";
import { useApp } from "../wallet";

const MAX_REASON_BYTES = 200; // the contract's String[200]
const PER_PAGE = 20; // licences shown at first, and added by "Show older licences"

/** The buyer's licences: escrow state, dispute within the window, release after it, certificates. */
export function Licences() {
  const app = useApp();
  const [licences, setLicences] = useState<Licence[] | null>(null);
  const [pages, setPages] = useState(1);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [grace, setGrace] = useState<number | null>(null);
  const now = useChainTime();

  const load = useCallback(() => {
    if (!app.address) return;
    fetchPages<Licence>(`/api/v1/licences?licensee=${app.address}`, "licences", pages, PER_PAGE).then(
      (body) => { setLicences(body.items); setMore(body.more); setError(null); },
      (e) => setError(explain(e)),
    );
  }, [app.address, pages]);
  useEffect(load, [load]);

  const market = app.status?.contracts?.LicenseMarket;
  useEffect(() => {
    if (!app.publicClient || !market) return;
    app.publicClient.readContract({ address: market, abi: LicenseMarket, functionName: "RELEASE_GRACE_PERIOD" })
      .then((seconds) => setGrace(Number(seconds)), () => undefined);
  }, [app.publicClient, market]);

  if (!app.address) {
    return (
      <section>
        <h1>My licences</h1>
        <div className="empty">
          <h2>Connect your wallet to see your licences</h2>
          <p>
            Licences belong to the address that bought them. Connect that wallet at the top, or{" "}
            <Link to="/market">find a licence in the marketplace</Link>.
          </p>
        </div>
      </section>
    );
  }
  return (
    <section>
      <h1>My licences</h1>
      <PendingList kind="market" onChange={load} />
      {error && <p role="alert" className="error">{error}</p>}
      {!licences && !error && <p role="status">Loading your licences…</p>}
      {licences && licences.length === 0 && (
        <div className="empty">
          <h2>No licences yet</h2>
          <p>
            This address holds no licence. <Link to="/market">Browse the marketplace</Link> or drop a picture there to
            find who licenses it. A licence you just bought appears here once its block is final.
          </p>
        </div>
      )}
      {licences?.map((licence) => <LicenceCard key={licence.id} licence={licence} now={now} grace={grace} />)}
      {more && <p><button className="secondary" onClick={() => setPages(pages + 1)}>Show {PER_PAGE} older licences</button></p>}
    </section>
  );
}

function LicenceCard({ licence, now, grace }: { licence: Licence; now: number; grace: number | null }) {
  const app = useApp();
  const id = useId();
  const [certificate, setCertificate] = useState<Certificate | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const wrongChain = app.chain && app.walletChainId !== app.chain.id;

  useEffect(() => {
    api(`/api/v1/licences/${licence.id}/certificate`).then(setCertificate, (e) => setMessage({ error: true, text: explain(e) }));
  }, [licence]);

  const releaseAt = Number(licence.escrow.release_at);
  const held = licence.escrow.status === "held";
  const canDispute = held && now < releaseAt;
  // A held escrow waits a grace period after the window for the arbiter; a disputed or frozen one, the arbitration deadline.
  const waiting = licence.escrow.status === "disputed" || licence.escrow.status === "frozen";
  const releasableAt = held ? (grace === null ? null : releaseAt + grace) : waiting ? releaseAt : null;
  const canRelease = releasableAt !== null && now >= releasableAt;

  const act = async (step: "dispute" | "release") => {
    if (!app.walletClient || !app.address) return;
    setMessage(null);
    if (step === "dispute" && (!reason.trim() || new TextEncoder().encode(reason).length > MAX_REASON_BYTES)) {
      setMessage({ error: true, text: `Say why you dispute the purchase, for the arbiter (1 to ${MAX_REASON_BYTES} bytes).` });
      return;
    }
    setBusy(true);
    try {
      const body = step === "dispute" ? { buyer: app.address, reason: reason.trim() } : { sender: app.address };
      const { transactions } = await post(`/api/v1/licences/${licence.id}/${step}`, body);
      const label = step === "dispute" ? `dispute licence ${licence.id}` : `release the escrow of licence ${licence.id}`;
      await sendStep(app.walletClient, app.address, transactions[0], { label, licenceId: licence.id });
      setMessage({ error: false, text: "Sent. The licence's state changes here once its block is final." });
    } catch (e) {
      setMessage({ error: true, text: explain(e) });
    } finally {
      setBusy(false);
    }
  };

  let escrowText: string;
  if (licence.escrow.status === "held") {
    escrowText = now < releaseAt
      ? `You can dispute this purchase until ${utc(releaseAt)} (${duration(releaseAt - now)} left).`
      : `The dispute window closed at ${utc(releaseAt)}; the payment goes to the seller${releasableAt ? ` from ${utc(releasableAt)}` : ""}.`;
  } else if (licence.escrow.status === "disputed") {
    escrowText = `You disputed it (“${licence.escrow.dispute_reason ?? ""}”). The arbiter decides by ${utc(releaseAt)}; after that the escrow can be released.`;
  } else if (licence.escrow.status === "frozen") {
    escrowText = `The arbiter holds the payment while looking into a report (“${licence.escrow.dispute_reason ?? ""}”) and decides by ${utc(releaseAt)}; after that the escrow can be released.`;
  } else if (licence.escrow.status === "released") {
    escrowText = "The escrow was released to the seller: the licence is final.";
  } else {
    escrowText = "The payment was refunded to you; the licence is void.";
  }

  return (
    <article className="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Licence {licence.id}{certificate?.image.title ? `: ${certificate.image.title}` : ""}</h2>
      <p data-testid="escrow">{escrowText}</p>
      {certificate ? <LicenceTerms certificate={certificate} /> : <p role="status">Loading the certificate…</p>}
      <p className="small">
        <Link to={`/verify/licence/${licence.id}`}>Public verification page</Link> ·{" "}
        <a href={`/api/v1/licences/${licence.id}/certificate?format=pdf`}>Certificate (PDF)</a> ·{" "}
        <a href={`/api/v1/licences/${licence.id}/certificate`}>Certificate data (JSON)</a>
      </p>
      {wrongChain && (canDispute || canRelease) && (
        <p className="warning">Your wallet is on another network: switch it to {app.chain!.name} (at the top) to act on this licence.</p>
      )}
      {canDispute && (
        <div className="dispute">
          <label htmlFor={`${id}-reason`}>Why do you dispute it? (for the arbiter)</label>
          <textarea id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} maxLength={MAX_REASON_BYTES} />
          <button onClick={() => act("dispute")} disabled={busy || !!wrongChain || !app.walletClient}>Dispute this purchase</button>
        </div>
      )}
      {canRelease && (
        <button onClick={() => act("release")} disabled={busy || !!wrongChain || !app.walletClient}>Release the escrow to the seller</button>
      )}
      <div aria-live="polite">
        {busy && <p role="status">Waiting for your wallet…</p>}
        {message && <p role={message.error ? "alert" : "status"} className={message.error ? "error" : "ok"}>{message.text}</p>}
      </div>
    </article>
  );
}
