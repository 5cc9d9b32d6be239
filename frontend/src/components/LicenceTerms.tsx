import { Link } from "react-router";
import { shortHex, utc } from "../format";
import { LICENCE_TYPES, price, territory, type Certificate, type Licence } from "../market";

/** What a licence's escrow and record say, in words. */
export function licenceState(licence: Licence): string {
  if (licence.escrow.status === "refunded") return "refunded (the licence is void)";
  if (licence.revoked) return "revoked";
  return { held: "held in escrow", disputed: "disputed", frozen: "held by the arbiter", released: "released to the seller" }[licence.escrow.status] ?? licence.escrow.status;
}

/** The image, terms, parties and on-chain proof of a licence, as its certificate names them. */
export function LicenceTerms({ certificate }: { certificate: Certificate }) {
  const { licence, image } = certificate;
  const name = image.title ?? `registration ${shortHex(image.registration_id, 6)}`;
  return (
    <div className="licence-terms">
      {image.cid ? (
        <img className="thumb" src={`/ipfs/${image.cid}`} alt={`The licensed image: ${name}`} loading="lazy" />
      ) : (
        <div className="thumb" aria-hidden="true" />
      )}
      <dl>
        <dt>Image</dt>
        <dd>{name} (<Link to={`/verify/${image.registration_id}`}>registration proof</Link>)</dd>
        <dt>Licence</dt>
        <dd>{LICENCE_TYPES[licence.licence_type] ?? licence.licence_type}, {licence.seats} seat(s), {territory(licence.countries)}</dd>
        <dt>Valid</dt>
        <dd>from {utc(BigInt(licence.starts_at))} {licence.ends_at ? `until ${utc(BigInt(licence.ends_at))}` : "for ever (perpetual)"}</dd>
        <dt>Domains</dt>
        <dd>{licence.domain_hashes.length} (kept on the chain as hashes: the verification page checks a domain against them)</dd>
        <dt>Licensee</dt>
        <dd className="mono wrap">{licence.licensee}</dd>
        <dt>Seller</dt>
        <dd className="mono wrap">{licence.seller}</dd>
        <dt>Price</dt>
        <dd>{price(licence.price, licence.currency)}</dd>
        <dt>State</dt>
        <dd>{licenceState(licence)}</dd>
        <dt>Transaction</dt>
        <dd className="mono wrap">{licence.tx_hash} (block {licence.block_number})</dd>
      </dl>
    </div>
  );
}
