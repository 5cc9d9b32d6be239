import { Link } from "react-router";
import { shortHex, utc, VERIFICATION } from "../format";

export interface Registration {
  id: string;
  owner: string;
  verification_level: number;
  registered_at: number;
  tx_hash: string;
  block_number: number;
  cid: string;
  parent: string | null;
}

/** Who registered an image, when, and the proof anyone can check: transaction, block, CID. */
export function Proof({ registration, heading }: { registration: Registration; heading?: string }) {
  const r = registration;
  return (
    <article className="card proof">
      <img className="thumb" src={`/ipfs/${r.cid}`} alt="The registered image, served from IPFS" loading="lazy" />
      <div>
        {heading && <h3>{heading}</h3>}
        <dl>
          <dt>Registered by</dt>
          <dd className="mono">{r.owner} <span className="badge">{VERIFICATION[r.verification_level] ?? "unknown"}</span></dd>
          <dt>Registered at</dt>
          <dd>{utc(r.registered_at)} (block {r.block_number})</dd>
          <dt>Transaction</dt>
          <dd className="mono" title={r.tx_hash}>{shortHex(r.tx_hash, 10)}</dd>
          <dt>IPFS CID</dt>
          <dd className="mono wrap"><a href={`/ipfs/${r.cid}`}>{r.cid}</a></dd>
          {r.parent && (
            <>
              <dt>Derived from</dt>
              <dd className="mono"><Link to={`/verify/${r.parent}`}>{shortHex(r.parent, 10)}</Link></dd>
            </>
          )}
        </dl>
        <Link to={`/verify/${r.id}`}>Verification page for this registration</Link>
      </div>
    </article>
  );
}
