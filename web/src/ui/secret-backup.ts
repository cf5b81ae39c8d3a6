/**
 * The backup prompt for the RTC seller's swap secrets. A secret exists only in this
 * browser until the seller reveals it to be paid; losing it does not lose the escrowed
 * RTC (it is refunded when the order ends unpaid) but loses the trade. So each new secret
 * is shown with copy and download until the seller confirms a copy is saved.
 */

import type { SecretRecord, Vault } from "../lib/storage";
import { fill, focusOn, h } from "./dom";
import { copyText, saveTextFile } from "./save";

export class SecretBackup {
  constructor(
    private readonly root: HTMLElement,
    private readonly vault: Vault,
  ) {}

  render(focusFirst = false): void {
    // Secrets whose order the bridge did not confirm ("pending:") are shown too: the
    // request may have created the order even though its answer was lost.
    const unsaved = this.vault.allSecrets().filter((s) => !s.backedUp);
    fill(this.root, ...unsaved.map((record) => this.prompt(record)));
    const heading = this.root.querySelector<HTMLElement>("h3");
    if (focusFirst && heading !== null) focusOn(heading);
  }

  private prompt(record: SecretRecord): HTMLElement {
    const inputId = `secret-${record.id}`;
    const feedback = h("p", { class: "hint", attrs: { role: "status" } });
    const where = this.vault.isPersistent
      ? "It is also kept in this browser with your key."
      : "It is kept in this tab only: reloading or closing the page forgets it.";
    return h(
      "div",
      {
        class: "callout warn secret",
        attrs: { role: "region", "aria-label": `Swap secret, ${record.id}` },
      },
      h(
        "h3",
        {},
        record.id.startsWith("pending:")
          ? "Save this swap secret: the bridge did not confirm whether its order was created"
          : `Save the swap secret of order ${record.id}`,
      ),
      h(
        "p",
        {},
        `You reveal this secret to be paid the ${record.pair.split("/")[1] ?? "quote"} for your RTC; only its hash was sent to the bridge. ${where}`,
      ),
      h("label", { attrs: { for: inputId } }, "Swap secret (64 hexadecimal characters)"),
      h(
        "textarea",
        {
          id: inputId,
          class: "mono secret-value",
          attrs: { readonly: true, rows: "2", autocomplete: "off", spellcheck: "false" },
        },
        record.preimageHex,
      ),
      h("p", { class: "hint" }, `Its hash (the order's hashlock): ${record.hashlock}`),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            class: "secondary",
            attrs: { type: "button" },
            on: {
              click: () =>
                void copyText(record.preimageHex).then((ok) => {
                  feedback.textContent = ok ? "Copied." : "Copy failed: select the text and copy it.";
                }),
            },
          },
          "Copy",
        ),
        h(
          "button",
          {
            class: "secondary",
            attrs: { type: "button" },
            on: {
              click: () =>
                saveTextFile(
                  `swap-secret-${record.id}.txt`,
                  `order ${record.id}\nsecret ${record.preimageHex}\nhashlock ${record.hashlock}\n`,
                ),
            },
          },
          "Download as a file",
        ),
        h(
          "button",
          {
            class: "primary",
            attrs: { type: "button" },
            on: {
              click: () => {
                this.vault.markBackedUp(record.id);
                this.render();
                const next =
                  this.root.querySelector<HTMLElement>("h3") ?? document.getElementById("order-result");
                if (next !== null) focusOn(next);
              },
            },
          },
          "I have saved it",
        ),
      ),
      feedback,
    );
  }
}
