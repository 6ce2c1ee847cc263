/**
 * Milliseconds this machine takes for a fixed stretch of plain JavaScript, printed beside every
 * benchmark's figures: on a shared virtual machine the same run can be several times slower from one
 * hour to the next, and this number tells which runs can be compared.
 */
export function cpuProbeMs(): number {
  const started = process.hrtime.bigint();
  let sum = 0;
  for (let index = 0; index < 50_000_000; index++) sum = (sum + index) % 1_000_003;
  if (sum < 0) console.log(sum);
  return Number(process.hrtime.bigint() - started) / 1e6;
}
