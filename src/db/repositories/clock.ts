/** Epoch milliseconds; injected so tests drive leases and retries without waiting. */
export type Clock = () => number;
