import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCalibrationItems, runImportModel } from "../../src/commands/import-model.js";
import { SeededRandom } from "../../src/math/random.js";
import { principalAngleCosines } from "../../src/math/subspace-distance.js";
import { readHead } from "../../src/model/head-file.js";
import { ItemTexts } from "../../src/service/item-texts.js";
import { calibrationBasis } from "../../src/training/calibration-basis.js";
import { FeatureExtractor } from "../../src/training/features/extractor.js";
import { LLAMA3_TOKENIZER_DIR, type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";

describe("calibrationBasis", () => {
  it("finds the directions the features vary along, whatever their common offset", () => {
    const d = 12;
    const random = new SeededRandom(3);
    const directions = [0, 1].map(() => Float64Array.from({ length: d }, () => random.gaussian()));
    const offset = Float64Array.from({ length: d }, () => 10 * random.gaussian());
    const features = Array.from({ length: 200 }, () => {
      const a = 5 * random.gaussian();
      const b = 3 * random.gaussian();
      return Float32Array.from(
        { length: d },
        (_, i) =>
          offset[i]! + a * directions[0]![i]! + b * directions[1]![i]! + 0.05 * random.gaussian(),
      );
    });
    const B = calibrationBasis(features, d, 2);
    const planted = new Float64Array(d * 2);
    for (let i = 0; i < d; i++) {
      planted[i * 2] = directions[0]![i]!;
      planted[i * 2 + 1] = directions[1]![i]!;
    }
    const cosines = principalAngleCosines(Float64Array.from(B), planted, d, 2);
    expect(Math.min(...cosines)).toBeGreaterThan(0.999);
    // Orthonormal columns.
    const gram = [0, 0, 0];
    for (let i = 0; i < d; i++) {
      gram[0]! += B[i * 2]! ** 2;
      gram[1]! += B[i * 2]! * B[i * 2 + 1]!;
      gram[2]! += B[i * 2 + 1]! ** 2;
    }
    expect(gram[0]).toBeCloseTo(1, 5);
    expect(gram[1]).toBeCloseTo(0, 5);
    expect(gram[2]).toBeCloseTo(1, 5);
  });

  it("needs more distinct texts than directions", () => {
    expect(() => calibrationBasis([new Float32Array(4), new Float32Array(4)], 4, 2)).toThrow(
      /expected more than k = 2 distinct texts/,
    );
  });
});

describe("import-model --calibration", () => {
  let fixture: LlamaFixture;
  let dir: string;
  beforeAll(async () => {
    fixture = await llamaFixture();
    dir = await mkdtemp(join(tmpdir(), "sharelora-calibration-"));
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("makes B the principal directions of the calibration items' features, served as the server renders them", async () => {
    const lines = [
      ...["Paris.", "It is Paris, the capital.", "Lyon", "I do not know."].map((response) =>
        JSON.stringify({ prompt: "What is the capital of France?", response }),
      ),
      JSON.stringify({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Name a prime." },
          { role: "assistant", content: "Seven." },
        ],
      }),
      JSON.stringify({ text: "<|begin_of_text|>plain text scored as it stands" }),
      "",
      JSON.stringify({ prompt: "Say hi.", response: "Hello there!" }),
    ];
    const file = join(dir, "calibration.jsonl");
    await writeFile(file, `${lines.join("\n")}\n`);
    const out = join(dir, "rm");
    const result = await runImportModel({
      onnx: fixture.model,
      tokenizer: LLAMA3_TOKENIZER_DIR,
      scoreHead: fixture.scoreHead,
      out,
      calibration: file,
      rank: 3,
    });
    expect(result.calibrationTexts).toBe(7);
    const head = await readHead(join(out, "head"));
    expect(head.basis).toBe("calibration-pca");
    expect(head.k).toBe(3);

    // The same features through the extractor, and PCA of them, independently of the command.
    const items = await readCalibrationItems(file);
    const extractor = await FeatureExtractor.open({ modelDir: out });
    const texts = new ItemTexts(extractor.renderer, extractor.model.manifest.encoding);
    const phi = await extractor.extract(items.map((item, i) => texts.render(item, `[${i}]`)));
    await extractor.close();
    const cosines = principalAngleCosines(
      Float64Array.from(head.B),
      Float64Array.from(calibrationBasis(phi, fixture.d, 3)),
      fixture.d,
      3,
    );
    expect(Math.min(...cosines)).toBeGreaterThan(0.9999);
  });

  it("names the line and field of a bad calibration item", async () => {
    const file = join(dir, "bad.jsonl");
    await writeFile(file, `${JSON.stringify({ text: "ok" })}\n{"prompt": "no response"}\n`);
    await expect(readCalibrationItems(file)).rejects.toThrow(
      /bad\.jsonl:2: .*expected \{prompt, response\}, \{messages\} or \{text\}/,
    );
  });
});
