/** The parts of the bridge's JSON answers the page reads (see docs/api.md, /openapi.json). */

export interface PairInfo {
  readonly pair: string;
  readonly quote_currency: string;
  readonly decimals: number;
  readonly chain: string;
  readonly enabled?: boolean;
  readonly disabled_reason?: string | null;
  readonly timelock_window: {
    readonly min_seconds: number;
    readonly max_seconds: number;
    readonly claim_margin_seconds: number;
    readonly settlement_margin_seconds: number;
  };
  readonly lock_window_seconds: number;
  // EVM pairs with a configured chain (design §3); absent or null otherwise.
  readonly chain_id?: number | null;
  readonly htlc_contract?: string | null;
  readonly token_address?: string | null;
  readonly rpc_url?: string | null;
  readonly finality_confirmations?: number | null;
  readonly timelock_min_seconds?: number | null;
  readonly timelock_max_seconds?: number | null;
  readonly limits: {
    readonly min_amount_rtc: number;
    readonly max_amount_rtc: number;
    readonly max_price: number;
    readonly max_ttl_seconds: number;
  };
}

export interface PairsResponse {
  readonly pairs: readonly PairInfo[];
}

export interface BookLevel {
  readonly price_nano: number;
  readonly total_micro_rtc: number;
  readonly order_count: number;
}

export interface OrderbookResponse {
  readonly pair: string;
  readonly asks: readonly BookLevel[];
  readonly bids: readonly BookLevel[];
  readonly last_price: number | null;
  readonly volume_24h_rtc: number;
  readonly trades_24h: number;
  readonly spread: number | null;
}

export interface Trade {
  readonly trade_id: string;
  readonly order_id: string;
  readonly pair: string;
  readonly side: string;
  readonly amount_micro_rtc: number;
  readonly price_per_rtc_nano_quote: number;
  readonly total_quote_base_units: string;
  readonly completed_at: number;
}

export interface TradesResponse {
  readonly trades: readonly Trade[];
}

export interface OrderSummary {
  readonly order_id: string;
  readonly side: string;
  readonly pair: string;
  readonly maker_wallet: string;
  readonly amount_micro_rtc: number;
  readonly price_per_rtc_nano_quote: number;
  readonly total_quote_base_units: string;
  readonly quote_currency: string;
  readonly status: string;
  readonly created_at: number;
  readonly expires_at: number;
}

export interface OrderSummaryWithTaker extends OrderSummary {
  readonly taker_wallet?: string | null;
}

export interface OrdersResponse {
  readonly orders: readonly OrderSummary[];
  readonly total: number;
}

export interface Deadlines {
  readonly expires_at: number | null;
  readonly match_deadline: number | null;
  readonly quote_timelock: number | null;
  readonly claim_deadline: number | null;
  readonly refundable_at: number | null;
  readonly escrow_expires_at: number | null;
  readonly next_action_at?: number | null;
}

export interface NextActionView {
  readonly code: string;
  readonly label: string;
  readonly deadline: number | null;
}

export interface QuoteLockView {
  readonly lock_id?: string | null;
  readonly tx_hash?: string | null;
  readonly amount?: string | number | null;
  readonly timelock?: number | null;
  readonly sender?: string | null;
  readonly receiver?: string | null;
}

export interface OrderDetail extends OrderSummary {
  readonly htlc_hash: string | null;
  readonly quote_decimals: number;
  readonly maker_eth_address: string | null;
  readonly taker_wallet: string | null;
  readonly taker_eth_address: string | null;
  readonly escrow_expires_at: number | null;
  readonly settlement_tx: string | null;
  readonly payout_tx_hash: string | null;
  readonly deadlines: Deadlines;
  readonly quote_lock: QuoteLockView | null;
  readonly next_actions?: Readonly<Record<string, NextActionView>> | null;
  readonly htlc_secret?: string | null;
}

export interface OrderDetailResponse {
  readonly order: OrderDetail;
}

export interface OrderEvent {
  readonly seq: number;
  readonly from: string | null;
  readonly to: string;
  readonly cause: string;
  readonly at: number;
  readonly actor?: string | null;
  readonly refs?: Readonly<Record<string, unknown>> | null;
}

export interface EventsResponse {
  readonly order_id: string;
  readonly events: readonly OrderEvent[];
}

export interface CreateOrderResponse {
  readonly ok: boolean;
  readonly order_id: string;
  readonly side: string;
  readonly pair: string;
  readonly status: string;
  readonly amount_micro_rtc: number;
  readonly price_per_rtc_nano_quote: number;
  readonly total_quote_base_units: string;
  readonly quote_currency: string;
  readonly expires_at: number;
  readonly deadlines: Deadlines;
  readonly htlc_hash?: string;
  readonly escrow_job_id?: string;
  readonly escrow_status?: string;
  readonly message?: string;
}
