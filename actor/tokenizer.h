// tokenizer.h: the public face of the tokenizer: text <-> token ids.
//
// Formats that load (tok_load picks by the path):
//   - a Hugging Face tokenizer.json with a BPE model, byte-level (Qwen2/2.5/3,
//     Llama-3, SmolLM2, GPT-2) or SentencePiece-style (Llama-2, TinyLlama); the
//     tokenizer_config.json beside it, when present, gives bos/eos, add_bos and
//     the chat template;
//   - a folder with tokenizer.json, or with vocab.json + merges.txt (+ optional
//     tokenizer_config.json): the Qwen2 (default) or GPT-2 fast-tokenizer settings;
//   - a llama2.c tokenizer.bin (e.g. stories260K's tok512.bin).
// docs/tokenizer.md describes special tokens, decoding and the known limits.
//
// Thread safety: a loaded tokenizer is read-only; tok_encode, tok_decode and the
// lookups may run on many threads at once. A tok_stream belongs to one thread.
#ifndef RLC_TOKENIZER_H
#define RLC_TOKENIZER_H

#include <stddef.h>  // size_t

#include "core/status.h"  // rlc_status

typedef struct tok_tokenizer tok_tokenizer;
typedef struct tok_stream tok_stream;

typedef enum {
    TOK_KIND_BYTE_LEVEL = 0,  // byte-level BPE (GPT-2 alphabet)
    TOK_KIND_SENTENCEPIECE,   // SentencePiece-style BPE over characters with byte fallback
    TOK_KIND_LLAMA2C          // llama2.c tokenizer.bin: merges chosen by token score
} tok_kind;

// ---- loading ------------------------------------------------------------------

// Loads the tokenizer at `path` (a tokenizer.json, a folder or a tokenizer.bin)
// into a new *out that the caller frees with tok_free.
// Errors: RLC_ERR_IO (missing or unreadable file), RLC_ERR_FORMAT (malformed
// JSON, vocab or merges; the message names the file and the field),
// RLC_ERR_UNSUPPORTED (a model, normalizer, pre-tokenizer or decoder type this
// build does not implement, named in the message), RLC_ERR_NOMEM. On failure
// *out is NULL and nothing is leaked.
rlc_status tok_load(const char *path, tok_tokenizer **out);
void tok_free(tok_tokenizer *t);  // NULL is fine

// ---- properties ---------------------------------------------------------------

tok_kind tok_get_kind(const tok_tokenizer *t);
// Number of ids, added tokens included (the largest id + 1).
int tok_vocab_size(const tok_tokenizer *t);
int tok_bos_id(const tok_tokenizer *t);  // -1 when the tokenizer has none
// The end-of-sequence ids known from the tokenizer files (tokenizer_config.json's
// eos_token, generation_config.json's eos_token_id when it sits beside them).
// Returns the count; *ids is borrowed from t (NULL when the count is 0).
int tok_eos_ids(const tok_tokenizer *t, const int **ids);
int tok_is_eos(const tok_tokenizer *t, int id);
// Whether encoding with TOK_ENCODE_ADD_SPECIAL puts BOS first (Llama-2: yes; Qwen: no).
int tok_add_bos(const tok_tokenizer *t);
// The chat_template string of tokenizer_config.json, or NULL. Borrowed from t.
const char *tok_chat_template(const tok_tokenizer *t);

// The piece of an id as the vocabulary spells it ("Ġworld", "▁Hello",
// "<|im_end|>"); NULL for an id out of range or unused. Borrowed from t.
const char *tok_id_to_piece(const tok_tokenizer *t, int id);
// The id of a piece spelled as the vocabulary spells it, added tokens included;
// -1 when there is none.
int tok_piece_to_id(const tok_tokenizer *t, const char *piece);
// The bytes one token decodes to on its own ("Ġworld" -> " world"; "<0x0A>" ->
// "\n"); *len gets the length. NULL for an invalid id. Borrowed from t. May be
// an incomplete UTF-8 sequence (byte tokens).
const char *tok_token_text(const tok_tokenizer *t, int id, size_t *len);
int tok_is_special(const tok_tokenizer *t, int id);  // a special added token, BOS or EOS

// ---- encoding -----------------------------------------------------------------

enum {
    TOK_ENCODE_ADD_SPECIAL = 1,    // add what the post-processor adds (Llama-2: <s> first)
    TOK_ENCODE_SPECIAL_AS_TEXT = 2 // do not match special tokens in the text (encode them as text)
};

// Encodes `len` bytes of UTF-8 text. Added and special tokens in the text are
// matched first (unless TOK_ENCODE_SPECIAL_AS_TEXT), then the rest is
// normalized, pre-tokenized and BPE-merged. On success *ids is a new array of
// *n_ids ids that the caller frees with rlc_free (non-NULL even when empty).
// Errors: RLC_ERR_ARG (text is not valid UTF-8; the message gives the byte
// offset), RLC_ERR_LIMIT (a pre-tokenizer regex hit a PCRE2 match limit),
// RLC_ERR_NOMEM. On failure *ids is NULL. Each thread keeps a small cache of
// recent words (see docs/tokenizer.md).
rlc_status tok_encode(const tok_tokenizer *t, const char *text, size_t len, int flags, int **ids,
                      size_t *n_ids);

// ---- decoding -----------------------------------------------------------------

enum {
    TOK_DECODE_SKIP_SPECIAL = 1  // leave out special tokens
};

// Decodes ids to text: a new NUL-terminated buffer of *len bytes that the caller
// frees with rlc_free. Invalid UTF-8 from byte tokens becomes U+FFFD.
// Errors: RLC_ERR_ARG (an id out of range), RLC_ERR_NOMEM.
rlc_status tok_decode(const tok_tokenizer *t, const int *ids, size_t n, int flags, char **text,
                      size_t *len);

// The streaming decoder: push one token at a time and get the text that is
// complete so far; an incomplete UTF-8 sequence is held back until the tokens
// that complete it arrive. The concatenation of every push and the final flush
// equals tok_decode of the whole sequence.
rlc_status tok_stream_create(const tok_tokenizer *t, int flags, tok_stream **out);
// *text / *len: the newly complete bytes (may be 0 bytes), borrowed from the
// stream and valid until the next call on it. RLC_ERR_ARG for an invalid id
// (the stream is unchanged).
rlc_status tok_stream_push(tok_stream *s, int id, const char **text, size_t *len);
// Ends the sequence: the held-back bytes come out as U+FFFD, and the stream is
// ready for a new sequence. Same ownership as tok_stream_push.
rlc_status tok_stream_flush(tok_stream *s, const char **text, size_t *len);
void tok_stream_free(tok_stream *s);  // NULL is fine

#endif
