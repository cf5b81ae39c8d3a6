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
