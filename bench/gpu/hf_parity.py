#!/usr/bin/env python3
"""Does transformers.CLIPModel read the HF folder `tpccma export --format hf` writes, and embed as we do?

  prepare  --refdata DIR --resolution R --out DIR   reference pixels resized to R (bicubic; the same tensor goes
                                                    to both sides) and the reference captions, one per line
  compare  --hf DIR --inputs DIR --ours FILE [--device cuda] --json FILE
           embeds the inputs with transformers (get_image_features / get_text_features, its own CLIPTokenizer from
           the folder) and compares each row with ours (`tpccma embed` output) by cosine; passes at >= 0.9999.
"""
import argparse
import json
import os
import sys
import time


def prepare(a):
    import torch
    from safetensors.torch import load_file, save_file
    pixels = load_file(os.path.join(a.refdata, "inputs", "images.safetensors"))["pixel_values"].float()
    if pixels.shape[-1] != a.resolution:
        pixels = torch.nn.functional.interpolate(pixels, size=(a.resolution, a.resolution), mode="bicubic", align_corners=False)
    os.makedirs(a.out, exist_ok=True)
    save_file({"pixel_values": pixels.contiguous()}, os.path.join(a.out, "pixels.safetensors"))
    with open(os.path.join(a.refdata, "inputs", "captions.json")) as f:
        captions = [c["text"] for c in json.load(f)["captions"]]
    with open(os.path.join(a.out, "texts.txt"), "w") as f:
        f.write("\n".join(captions) + "\n")
    print(f"prepared {pixels.shape[0]} images at {a.resolution} px and {len(captions)} captions in {a.out}")


def features(output, name):
    """The projected features: a tensor, or (should a transformers version return a model output) its field."""
    import torch
    if torch.is_tensor(output):
        return output
    for field in (name, "pooler_output"):
        value = getattr(output, field, None)
        if torch.is_tensor(value):
            print(f"note: get_*_features returned {type(output).__name__}; using its {field}")
            return value
    raise TypeError(f"get_*_features returned {type(output).__name__} without {name} or pooler_output")


def compare(a):
    import torch
    import transformers
    from safetensors.torch import load_file
    started = time.time()
    device = torch.device(a.device)
    # No dtype argument: transformers 5 renamed torch_dtype to dtype; our export is float32 and .float() makes sure.
    model = transformers.CLIPModel.from_pretrained(a.hf).float().to(device).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(a.hf)
    pixels = load_file(os.path.join(a.inputs, "pixels.safetensors"))["pixel_values"].to(device)
    with open(os.path.join(a.inputs, "texts.txt")) as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    context = model.config.text_config.max_position_embeddings
    ids = tokenizer(texts, padding="max_length", max_length=context, truncation=True, return_tensors="pt")
    with torch.no_grad():
        image = model.get_image_features(pixel_values=pixels)
        text = model.get_text_features(input_ids=ids["input_ids"].to(device), attention_mask=ids["attention_mask"].to(device))
    image, text = features(image, "image_embeds"), features(text, "text_embeds")
    ours = load_file(a.ours)
    cos = torch.nn.functional.cosine_similarity
    image_cos = cos(image.float().cpu(), ours["image_embeds"].float(), dim=-1)
    text_cos = cos(text.float().cpu(), ours["text_embeds"].float(), dim=-1)
    result = {"suite": "hf_parity", "transformers": transformers.__version__, "torch": torch.__version__,
              "device": str(device), "hf_folder": a.hf, "images": int(pixels.shape[0]), "texts": len(texts),
              "image_cosine_min": image_cos.min().item(), "text_cosine_min": text_cos.min().item(),
              "image_cosine": image_cos.tolist(), "text_cosine": text_cos.tolist(),
              "threshold": 0.9999, "seconds": time.time() - started}
    result["ok"] = result["image_cosine_min"] >= 0.9999 and result["text_cosine_min"] >= 0.9999
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}))
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)
    return 0 if result["ok"] else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--refdata", required=True)
    pp.add_argument("--resolution", type=int, required=True)
    pp.add_argument("--out", required=True)
    pc = sub.add_parser("compare")
    pc.add_argument("--hf", required=True)
    pc.add_argument("--inputs", required=True)
    pc.add_argument("--ours", required=True)
    pc.add_argument("--device", default="cpu")
    pc.add_argument("--json", required=True)
    a = p.parse_args()
    return prepare(a) or 0 if a.command == "prepare" else compare(a)


if __name__ == "__main__":
    sys.exit(main())
