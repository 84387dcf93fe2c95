// bytetok.h: the byte-level tokenizer of models created from scratch (rlc
// init-model --tokenizer bytes): one token per byte and three special tokens,
// written as Hugging Face tokenizer files that tok_load (and transformers'
// PreTrainedTokenizerFast) read.
//
// ids 0..255 are the bytes: id b is the piece of byte b in the GPT-2
// byte-level alphabet (byte 'a' is "a", byte ' ' is "Ġ", byte '\n' is "Ċ"),
// a BPE model with no merges behind a ByteLevel pre-tokenizer (no regex, no
// prefix space) and a ByteLevel decoder. Then <|bos|> 256, <|eos|> 257 and
// <|pad|> 258, special added tokens. Any byte string encodes to its bytes and
// decodes back unchanged (valid UTF-8; tok_decode turns broken UTF-8 into
// U+FFFD).
//
// tokenizer_config.json names bos, eos and pad and sets add_bos_token false:
// prompts are encoded exactly as their text, so a prompt rendered by a chat
// template (encoded without special tokens) and the same text given as an SFT
// prompt (encoded with them) are the same tokens.
#ifndef RLC_ACTOR_BYTETOK_H
#define RLC_ACTOR_BYTETOK_H

#include "core/status.h"  // rlc_status

#define BYTETOK_BOS 256
#define BYTETOK_EOS 257
#define BYTETOK_PAD 258
#define BYTETOK_VOCAB 259  // the model's vocab_size

// The code point that stands for byte b (0..255) in the byte-level alphabet.
int bytetok_codepoint(int b);

// Writes dir/tokenizer.json and dir/tokenizer_config.json (dir must exist).
// RLC_ERR_IO names the file.
rlc_status bytetok_write(const char *dir);

#endif
