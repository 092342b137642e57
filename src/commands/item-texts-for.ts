import { createItemRenderer } from "../inference/render.js";
import type { Manifest } from "../model/manifest.js";
import { ItemTexts } from "../service/item-texts.js";

/** Items as the texts the engine encodes for this model, exactly as the server renders them. */
export function itemTextsFor(manifest: Manifest): ItemTexts {
  return new ItemTexts(createItemRenderer(manifest.chat_template));
}
