#!/usr/bin/env python3
"""make_tokenizer_fixtures.py: writes the tokenizer and chat-template fixtures
under tests/data/tokenizer/ that tests/test_tokenizer.c and tests/test_chat.c
check the C tokenizer against.

Run by hand (not by CI), from the repository root:
    pip install tokenizers transformers jinja2
    python3 scripts/make_tokenizer_fixtures.py [--data ../shared/data]

References:
  - Qwen2.5: a `tokenizers` Tokenizer built here from vocab.json + merges.txt with
    the Qwen2 fast-tokenizer settings (NFC, Split regex Isolated, ByteLevel without
    its own regex, ByteLevel decoder) plus the added tokens of tokenizer_config.json.
  - Llama-2: tokenizers.Tokenizer.from_file(tokenizer.json).
  - llama2.c tok512.bin: the encoding algorithm of llama2.c's run.c, restated below.
  - chat: transformers' apply_chat_template with the chat_template strings of the
    Qwen2.5 and Qwen3 tokenizer_config.json files.

Files written (JSON Lines; the first line is a header with format, version and the
generating library versions):
  corpus.jsonl   {"text", "qwen", "qwen_dec", "llama2", "llama2_dec"}
                 qwen: ids (encode, add_special_tokens=False; Qwen adds nothing anyway)
                 qwen_dec: decode(qwen ids), specials kept
                 llama2: ids (encode, add_special_tokens=True: <s> first)
                 llama2_dec: decode(llama2 ids with the special ids removed first)
                 (tokenizers 0.23 stores Llama-2's normalized special tokens as "▁<s>",
                 so its own skip_special_tokens=True skips nothing; transformers drops the
                 special ids before decoding, and so does the C tokenizer)
  llama2c.jsonl  {"text", "ids"}: BOS + llama2.c's encoding with tok512.bin
  chat.jsonl     {"template", "messages", "add_generation_prompt", "text", "ids"}
"""
import argparse
import json
import os
import platform
import struct
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

FORMAT_VERSION = 1


# ---- the corpus ---------------------------------------------------------------

HAND_WRITTEN = [
    # prose
    "Hello, world!", "Hello world", "hello world", "HELLO WORLD", " Hello", "  Hello",
    "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times.",
    "Once upon a time, there was a little girl named Lily. She loved to play outside.",
    "Mr. Smith went to Washington D.C. on Jan. 3rd, 2024 -- at 5:30 p.m.",
    "e.g. i.e. etc. vs. U.S.A.", "Well... that's odd?! (Really.)", "A\u2014dash\u2013and \u201cquotes\u201d",
    "naïve café résumé fiancée coöperate", "Straße groß Äpfel Öl Übel", "œuvre Ærø Øre Łódź",
    # contractions
    "don't", "Don't", "DON'T", "I'm", "I'M", "we've", "WE'VE", "she'd", "she'll", "SHE'LL", "they're",
    "It's", "it's", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "O'Neil's", "rock 'n' roll",
    "y'all'd've", "Y'ALL'D'VE", "can\u2019t won\u2019t", "'S'T'RE", "'ll'll", "x's y'S z'Ll", "'ſ",
    # whitespace
    "", " ", "  ", "   ", "    ", "\t", "\t\t", " \t ", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r", "\r\r\n",
    "a b", "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a \tb", "a\t b", "a\nb", "a\n\nb", "a \n b",
    "a\r\nb", "a\r\n\r\nb", "line1\r\nline2\r\nline3\r\n", "trailing   ", "   leading", "  both  ",
    "tab\tseparated\tvalues\t1\t2\t3", "\t\tdef f():\n\t\t\treturn 1\n", "x \n\n y", " \n \n ",
    "word\n    indented", "end.\n\n\n\nNext", "a\u00a0b", "\u00a0", "a\u3000b", "\u3000\u3000",
    "a\u2003b", "a\u2028b", "a\u0085b", "\u0085", "a\u200bb", "\ufeffBOM", "a\x0bb\x0cc",
    # digits
    "0", "7", "42", "123", "1234", "12345", "123456789", "1234567890" * 3, "3.14159265358979323846",
    "1,000,000", "-42", "+3.5e-10", "0x1F3A", "2024-01-15T10:30:00Z", "$1,234.56", "50%", "1/2",
    "٣٤٥", "x²+y³", "Ⅻ", "１２３", "№5", "007 James", "a1b2c3", "v1.2.3-rc4", "10^100",
    # LaTeX
    "$x^2 + y^2 = z^2$", "\\frac{1}{2}", "\\frac{\\pi}{2}", "\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}",
    "\\boxed{42}", "The answer is $\\boxed{\\frac{3}{4}}$.",
    "\\begin{align*}\na &= b + c \\\\\n&= d\n\\end{align*}", "\\sqrt{2}\\approx 1.414",
    "\\alpha\\beta\\gamma", "$$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$$",
    "\\left( 3, \\frac{\\pi}{2} \\right)", "f'(x) = 2x", "\\{x \\mid x > 0\\}", "a_{ij} b^{k}",
    "\\mathbb{R}^n \\to \\mathbb{R}", "\\text{if } x \\ge 0", "3 \\times 4 = 12", "\\dots, \\cdots",
    # code
    "def add(a, b):\n    return a + b\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}",
    "#include <stdio.h>\nint main(void) { printf(\"hi\\n\"); return 0; }",
    "const f = (x) => x * 2; // double", "if x == 1:\n    pass\nelif x != 2:\n    raise ValueError('bad')",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "<div class=\"box\">Hi &amp; bye</div>",
    "SELECT * FROM users WHERE id = 1;", "ls -la | grep '^d' > out.txt 2>&1", "x+=1;y-=2;z*=3",
    "a->b->c", "a::b::c", "i++; --j;", "!==", "<<= >>= ** //", "__init__(self)", "@decorator",
    "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Users\\name\\file.txt",
    "    return;\n", "\tindent\n\t\tmore\n", "   \n   \n", "}}}}", "((((", "....", "----", "====",
    "a=b", "'quoted'", "\"double\"", "`backtick`", "#### 72",
    # emoji
    "😀", "😀😀", "Hello 🌍!", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🤖 robots 🤖", "☕", "✅ done",
    "I ❤ NY", "🙂\n🙃", "a😀b", "🏳️‍🌈",
    # CJK and other scripts
    "你好，世界", "日本語のテキストです。", "한국어 텍스트", "中文 and English mixed", "「引用」と『二重』",
    "数学：1+1=2", "我爱北京天安门", "東京都", "ｆｕｌｌｗｉｄｔｈ", "Привет, мир!", "Ελληνικά γράμματα",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Tiếng Việt có dấu", "ქართული",
    "Ω Ω", "Å Å", "ﬁ ﬂ", "Kelvin K",
    # NFD accents and other normalization
    "e\u0301", "Cafe\u0301", "n\u0303", "A\u030a", "a\u0308o\u0308u\u0308", "x\u0308\u0301",
    "\u1100\u1161", "\u1100\u1161\u11a8", "re\u0301sume\u0301", "\u212b", "\u2126", "\u0041\u0301\u0301",
    "i\u0307", "\u0065\u0327\u0301",
    # special tokens inside text
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nHi<|im_end|>\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more", " <|endoftext|> ", "<|im_start|><|im_end|>", "<<|im_end|>>", "<|im_start",
    "< |im_start| >", "<|IM_START|>", "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<tool_call>\n{\"name\": \"f\"}\n</tool_call>", "<s>", "</s>", "<unk>", "a<s>b", " <s> ", "<s>Hello",
    "Hello</s>", "<s> </s>", "<s><s>", "</s>x</s>", "<|endoftext|><s></s>",
    # control characters and odd bytes
    "a\x00b", "\x01\x02\x03", "\x7f", "bell\x07", "esc\x1b[0m",
]


def synthetic():
    out = []
    for k in (1, 2, 3, 5, 8, 15, 16, 17, 31, 64):
        out.append(" " * k + "x")
        out.append("x" + " " * k)
        out.append("\t" * k + "y")
        out.append("\n" * k)
    for k in (1, 2, 3, 4, 5, 6, 7, 10, 20, 50):
        out.append("9" * k)
        out.append("ab" + "1" * k + "cd")
    out.append(" " * 300)
    out.append("a" * 200)
    out.append("ab" * 100)
    out.append("\r\n" * 10)
    out.append(" \t" * 20)
    return out


def from_datasets(data):
    out = []
    with open(os.path.join(data, "gsm8k", "train.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 40:
                break
            ex = json.loads(line)
            out.append(ex["question"])
            out.append(ex["answer"])
    with open(os.path.join(data, "math", "math500_test.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 40:
                break
            ex = json.loads(line)
            out.append(ex["problem"])
            if i < 15:
                out.append(ex["solution"])
    return out


# ---- reference tokenizers ------------------------------------------------------

def build_qwen(qdir):
    with open(os.path.join(qdir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    merges = []
    with open(os.path.join(qdir, "merges.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#version"):
                continue
            a, b = line.split(" ")
            merges.append((a, b))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None, fuse_unk=False,
                               byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    with open(os.path.join(qdir, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    for sid, t in sorted(config["added_tokens_decoder"].items(), key=lambda kv: int(kv[0])):
        at = AddedToken(t["content"], single_word=t["single_word"], lstrip=t["lstrip"],
                        rstrip=t["rstrip"], normalized=t["normalized"], special=t["special"])
        tok.add_tokens([at])
        got = tok.token_to_id(t["content"])
        assert got == int(sid), (t["content"], got, sid)
    return tok, config


def load_llama2(path):
    """Llama-2's tokenizer.json holds three merges whose parts contain a real space
    ("   " is " " + " "), which the `tokenizers` string-merge parser rejects. Rewrite
    the merges as [left, right] pairs, splitting at the space that leaves both parts
    and their concatenation in the vocabulary (the rule the C loader applies too;
    these merges are unreachable anyway, since the normalizer replaces spaces)."""
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    vocab = spec["model"]["vocab"]
    pairs = []
    for m in spec["model"]["merges"]:
        if isinstance(m, list):
            pairs.append(m)
            continue
        cuts = [i for i, c in enumerate(m) if c == " "
                and m[:i] in vocab and m[i + 1:] in vocab and m[:i] + m[i + 1:] in vocab]
        assert cuts, m
        pairs.append([m[:cuts[0]], m[cuts[0] + 1:]])
    spec["model"]["merges"] = pairs
    return Tokenizer.from_str(json.dumps(spec))


def cross_check_qwen(qwen, qdir, texts):
    """Compares the hand-built Qwen tokenizer with transformers' own loading of the
    same folder (a check of the settings above; informational only)."""
    try:
        from transformers import AutoTokenizer
        auto = AutoTokenizer.from_pretrained(qdir)
    except Exception as e:  # noqa: BLE001 - any failure just skips the check
        print(f"cross-check skipped: transformers cannot load {qdir}: {e}")
        return
    same = sum(auto.encode(t, add_special_tokens=False) == qwen.encode(t).ids for t in texts)
    print(f"cross-check: transformers AutoTokenizer agrees on {same}/{len(texts)} strings")


def read_llama2c(path):
    with open(path, "rb") as f:
        data = f.read()
    off = 4
    pieces, scores = [], []
    while off < len(data):
        score, n = struct.unpack_from("<fi", data, off)
        off += 8
        pieces.append(data[off:off + n])
        scores.append(score)
        off += n
    return pieces, scores


def llama2c_encode(pieces, scores, text):
    """llama2.c's encode(): BOS, a dummy-prefix " " when the text is non-empty, one
    token per UTF-8 character (or its bytes + 3), then merge the adjacent pair whose
    concatenation is in the vocabulary with the best score, leftmost first."""
    lookup = {p: i for i, p in enumerate(pieces)}
    ids = [1]
    if text:
        ids.append(lookup[b" "])
    for ch in text:
        b = ch.encode("utf-8")
        if b in lookup:
            ids.append(lookup[b])
        else:
            ids.extend(x + 3 for x in b)
    while True:
        best, best_id, best_i = -1e10, -1, -1
        for i in range(len(ids) - 1):
            j = lookup.get(pieces[ids[i]] + pieces[ids[i + 1]])
            if j is not None and scores[j] > best:
                best, best_id, best_i = scores[j], j, i
        if best_i < 0:
            break
        ids[best_i:best_i + 2] = [best_id]
    return ids


# ---- tiny trained tokenizers: the pipeline pieces the shared tokenizers lack ----------

TINY_TEXTS = [
    "Hello world", "hello  world", " Hello", "HELLO WORLD, hello world!", "naïve café", "ｆｕｌｌｗｉｄｔｈ ﬁ",
    "abc-def-ghi", "a--b", "-start", "end-", "x1234567y", "12 345 6789", "3.14-2.71", "a<mask>b", "a <mask> b",
    "a  <mask>  b", "<mask>", " <mask>", "[X] is here", "a[X]b", "a [X] b", "The hello world thing", "helloworld",
    "\u65e5\u672c\u8a9e", "emoji 😀 done", "tabs\tand\nnewlines", "Mixed: <bos>inside<eos>", "__under__score", "",
    " ", "   ", "a", "ü ü", "line\r\nnext", "the theater then", "unknown ☃ snowman", "ŉ ǆ",
    "a</s>b c", "<s> x y", "x <s>y", "☃☃ 😀☃",
]


def tiny_tokenizers(texts):
    """Two small tokenizers trained here, with the features the shared ones do
    not use: NFKC + Lowercase, Digits, Split MergedWithPrevious / MergedWithNext /
    Contiguous, ByteLevel with add_prefix_space and its own regex, ignore_merges, a
    TemplateProcessing with BOS and EOS, added tokens with lstrip / rstrip /
    single_word / normalized; and Metaspace (prepend_scheme "first") with byte
    fallback, an unknown token and fuse_unk."""
    from tokenizers import trainers
    train = texts[:200]
    bl = Tokenizer(models.BPE(ignore_merges=True))  # as Llama-3
    bl.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    bl.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Split(Regex(r"-+"), behavior="merged_with_previous"),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
    ])
    bl.decoder = decoders.ByteLevel()
    bl.train_from_iterator(train, trainers.BpeTrainer(vocab_size=420, show_progress=False,
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                      special_tokens=["<bos>", "<eos>"]))
    bl.add_tokens([AddedToken("<mask>", lstrip=True, rstrip=True, special=True, normalized=False),
                   AddedToken("[X]", single_word=True, special=False, normalized=False),
                   AddedToken("hello world", normalized=True, special=False)])
    from tokenizers import processors
    bl.post_processor = processors.TemplateProcessing(
        single="<bos> $A <eos>", special_tokens=[("<bos>", bl.token_to_id("<bos>")),
                                                 ("<eos>", bl.token_to_id("<eos>"))])
    ms = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    ms.normalizer = normalizers.NFKC()
    ms.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\d"), behavior="contiguous"),
        pre_tokenizers.Split("-", behavior="merged_with_next"),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True),
    ])
    ms.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    alphabet = sorted((set("".join(train)) | {"▁"}) - set("☃ŉǆ😀日本語"))
    ms.train_from_iterator(train, trainers.BpeTrainer(
        vocab_size=600, show_progress=False, special_tokens=["<unk>", "<s>", "</s>"]
        + [f"<0x{b:02X}>" for b in range(256)], initial_alphabet=alphabet, limit_alphabet=len(alphabet)))
    return {"tiny_bytelevel.json": bl, "tiny_metaspace.json": ms}


CONVERSATIONS = [
    ([{"role": "user", "content": "What is 2+2?"}], True),
    ([{"role": "user", "content": "What is 2+2?"}], False),
    ([{"role": "system", "content": "You are a math tutor."},
      {"role": "user", "content": "Solve x^2 = 4."}], True),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
      {"role": "user", "content": "Tell me a joke."}], True),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"},
      {"role": "assistant", "content": "Paris."}], False),
    ([{"role": "user", "content": "Line one\nLine two\n\n  indented\t tab"}], True),
    ([{"role": "user", "content": "Unicode: café, 你好, 😀, \\frac{1}{2}"}], True),
    ([{"role": "system", "content": "First."}, {"role": "user", "content": "q"},
      {"role": "system", "content": "Second system."}, {"role": "user", "content": "q2"}], True),
    ([{"role": "user", "content": ""}], True),
    ([{"role": "user", "content": "What's the weather?"},
      {"role": "assistant", "content": "Let me check."},
      {"role": "tool", "content": "{\"temp\": 21}"}, {"role": "tool", "content": "{\"sky\": \"clear\"}"},
      {"role": "user", "content": "Thanks"}], True),
    ([{"role": "user", "content": "Think first."},
      {"role": "assistant", "content": "<think>\nreasoning here\n</think>\n\nThe answer is 4."}], False),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "<think>r1</think>b"},
      {"role": "user", "content": "c"}], True),
]


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "tokenizer"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    import transformers
    versions = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                "python": platform.python_version()}

    texts = []
    for t in HAND_WRITTEN + synthetic() + from_datasets(args.data):
        if t not in texts:
            texts.append(t)

    qwen, qconfig = build_qwen(os.path.join(args.data, "tokenizers", "qwen2.5"))
    llama = load_llama2(os.path.join(args.data, "tokenizers", "llama2", "tokenizer.json"))

    llama_special = {i for i, t in llama.get_added_tokens_decoder().items() if t.special}
    cross_check_qwen(qwen, os.path.join(args.data, "tokenizers", "qwen2.5"), texts)
    header = {"format": "rlc-tokenizer-corpus", "version": FORMAT_VERSION, "count": len(texts),
              "qwen": "built from qwen2.5/vocab.json + merges.txt + tokenizer_config.json added tokens",
              "llama2": "llama2/tokenizer.json", **versions}
    with open(os.path.join(args.out, "corpus.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps(header, ensure_ascii=False) + "\n")
        for t in texts:
            q = qwen.encode(t, add_special_tokens=False).ids
            l = llama.encode(t, add_special_tokens=True).ids
            plain = [i for i in l if i not in llama_special]
            row = {"text": t, "qwen": q, "qwen_dec": qwen.decode(q, skip_special_tokens=False),
                   "llama2": l, "llama2_dec": llama.decode(plain)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"corpus.jsonl: {len(texts)} strings")

    pieces, scores = read_llama2c(os.path.join(args.data, "models", "stories260K", "tok512.bin"))
    l2c_texts = ["", "a", "Hello", "Once upon a time", "Once upon a time, there was a little girl.",
                 "The cat sat on the mat.\nThe dog barked!", "Lily's mom said, \"Don't run!\"",
                 "  two spaces", "日本", "emoji 😀 here", "numbers 12345", "tab\there", "\u00e9t\u00e9",
                 "He said: 'Wow'... then left."]
    with open(os.path.join(args.out, "llama2c.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"format": "rlc-tokenizer-llama2c", "version": FORMAT_VERSION,
                            "reference": "llama2.c run.c encode() restated in Python", **versions}) + "\n")
        for t in l2c_texts:
            f.write(json.dumps({"text": t, "ids": llama2c_encode(pieces, scores, t)},
                               ensure_ascii=False) + "\n")
    print(f"llama2c.jsonl: {len(l2c_texts)} strings")

    tiny = tiny_tokenizers(texts)
    n = 0
    with open(os.path.join(args.out, "tiny.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"format": "rlc-tokenizer-tiny", "version": FORMAT_VERSION,
                            "reference": "tokenizers encode(add_special_tokens=True) / decode",
                            **versions}) + "\n")
        for name, tok in tiny.items():
            tok.save(os.path.join(args.out, name))
            for t in TINY_TEXTS + texts[:40]:
                ids = tok.encode(t, add_special_tokens=True).ids
                f.write(json.dumps({"tokenizer": name, "text": t, "ids": ids,
                                    "dec": tok.decode(ids, skip_special_tokens=True)},
                                   ensure_ascii=False) + "\n")
                n += 1
    print(f"tiny.jsonl: {n} encodings by {len(tiny)} trained tokenizers")

    from transformers import PreTrainedTokenizerFast
    templates = {"qwen2.5": qconfig["chat_template"]}
    with open(os.path.join(args.data, "tokenizers", "qwen2.5", "tokenizer_config.qwen3.json"),
              encoding="utf-8") as f:
        templates["qwen3"] = json.load(f)["chat_template"]
    n = 0
    with open(os.path.join(args.out, "chat.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"format": "rlc-chat-fixture", "version": FORMAT_VERSION,
                            "reference": "transformers apply_chat_template(tokenize=False)",
                            **versions}) + "\n")
        for name, tmpl in templates.items():
            fast = PreTrainedTokenizerFast(tokenizer_object=qwen, chat_template=tmpl)
            for msgs, gen in CONVERSATIONS:
                text = fast.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)
                ids = qwen.encode(text, add_special_tokens=False).ids
                f.write(json.dumps({"template": name, "messages": msgs, "add_generation_prompt": gen,
                                    "text": text, "ids": ids}, ensure_ascii=False) + "\n")
                n += 1
    print(f"chat.jsonl: {n} renderings")


if __name__ == "__main__":
    sys.exit(main())
