/**
 * Whether the tests run under CI (.ci/run exports CI=true, as CI services do). Under CI a test
 * must never pass by doing less: no golden file written in place of a comparison, no skip for a
 * tool the machine lacks (scripts/bootstrap.sh installs them).
 */
export function underCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
