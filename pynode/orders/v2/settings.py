"""``[watch]`` of a protocol-2 watch.toml: what the v2 buyer watcher does besides awarding (``[award]``,
orders/award_policy.AwardSettings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pynode.orders.quote_settings import Seconds


class WatchLoopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    auto_confirm: bool = Field(default=False, description="confirm a shipment whose quality report checks out")
    on_give_up: Literal["cancel", "keep"] = Field(
        default="cancel", description="when no quote can be awarded in time: cancel the order (escrow credited "
                                      "back) or keep it open")
    refund_late: bool = Field(default=True, description="refund an awarded order not shipped by its due date")
    announce_s: Seconds = Field(default=30, description="re-announce an open order this often (pubsub keeps no "
                                                        "history)")
    recheck_s: Seconds = Field(default=60, description="ask each live order's commitment this often besides its "
                                                       "events (a log a node answered late is not missed for good)")
