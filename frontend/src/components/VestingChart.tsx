import { amount, shortHex, utc } from "../format";

export interface Vesting {
  name: string;
  address: string;
  beneficiary: string;
  start: string;
  cliff_duration: string;
  duration: string;
  total: string;
  released: string;
  releasable: string;
}

const LABELS: Record<string, string> = {
  BusinessDevelopmentVesting: "Business development",
  FoundersVesting: "Founders",
};
const label = (name: string) => LABELS[name] ?? name;
const W = 640, H = 220, PAD = { left: 12, right: 12, top: 24, bottom: 28 };

/** TokenVesting's schedule: nothing before the cliff, then linear from the start to the end. */
function vestedAt(v: Vesting, t: number): bigint {
  const start = Number(v.start), cliff = Number(v.cliff_duration), duration = Number(v.duration);
  if (t < start + cliff) return 0n;
  if (t >= start + duration) return BigInt(v.total);
  return (BigInt(v.total) * BigInt(Math.floor(t - start))) / BigInt(duration);
}

/** The two vesting contracts' schedules drawn over time, with today's line, and each one's figures. */
export function VestingChart({ vesting, now, decimals, symbol }: { vesting: Vesting[]; now: number; decimals: number; symbol: string }) {
  if (vesting.length === 0) return <p className="muted">This deployment has no vesting contracts.</p>;
  // From now (or the earliest start) to the last schedule's end, so the wait until the cliff shows too.
  const from = Math.min(now, ...vesting.map((v) => Number(v.start)));
  const to = Math.max(...vesting.map((v) => Number(v.start) + Number(v.duration)));
  const top = vesting.reduce((m, v) => (BigInt(v.total) > m ? BigInt(v.total) : m), 1n);
  const x = (t: number) => PAD.left + ((t - from) / Math.max(to - from, 1)) * (W - PAD.left - PAD.right);
  const y = (units: bigint) => H - PAD.bottom - Number((units * 10000n) / top) / 10000 * (H - PAD.top - PAD.bottom);
  const path = (v: Vesting) => {
    const start = Number(v.start), cliff = start + Number(v.cliff_duration), end = start + Number(v.duration);
    const points: [number, bigint][] = [[from, 0n], [cliff, 0n], [cliff, vestedAt(v, cliff)], [end, BigInt(v.total)], [to, BigInt(v.total)]];
    return points.map(([t, units], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(units).toFixed(1)}`).join(" ");
  };
  const cpy = (units: string | bigint) => amount(BigInt(units), decimals, symbol);
  const description = vesting.map((v) =>
    `${label(v.name)}: ${cpy(v.total)}, nothing before ${utc(Number(v.start) + Number(v.cliff_duration))}, all by ${utc(Number(v.start) + Number(v.duration))}`).join("; ");
  return (
    <figure className="vesting">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Vesting schedules over time. ${description}`} data-testid="vesting-chart">
        <line className="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
        {vesting.map((v, i) => <path key={v.name} d={path(v)} className={`series s${i}`} />)}
        {now >= from && now <= to && (
          <g className="now">
            <line x1={x(now)} y1={PAD.top} x2={x(now)} y2={H - PAD.bottom} />
            <text x={x(now) + 4} y={PAD.top + 10}>now</text>
          </g>
        )}
        <text x={PAD.left} y={PAD.top - 8}>{cpy(top)}</text>
        <text x={PAD.left} y={H - 8}>{utc(from).slice(0, 10)}</text>
        <text x={W - PAD.right} y={H - 8} textAnchor="end">{utc(to).slice(0, 10)}</text>
      </svg>
      <figcaption>
        <ul className="legend">
          {vesting.map((v, i) => <li key={v.name}><span className={`swatch s${i}`} aria-hidden="true" />{label(v.name)}</li>)}
        </ul>
      </figcaption>
      {vesting.map((v) => (
        <section key={v.name} className="schedule" aria-label={`${label(v.name)} vesting`}>
          <h3>{label(v.name)} <span className="mono small" title={v.beneficiary}>to {shortHex(v.beneficiary, 4)}</span></h3>
          <dl>
            <dt>Total</dt><dd>{cpy(v.total)}</dd>
            <dt>Cliff ends</dt><dd>{utc(Number(v.start) + Number(v.cliff_duration))}</dd>
            <dt>Fully vested</dt><dd>{utc(Number(v.start) + Number(v.duration))}</dd>
            <dt>Released</dt><dd>{cpy(v.released)}</dd>
            <dt>Releasable now</dt><dd data-testid={`releasable-${v.name}`}>{cpy(v.releasable)}</dd>
          </dl>
        </section>
      ))}
    </figure>
  );
}
