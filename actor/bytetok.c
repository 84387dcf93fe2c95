// bytetok.c: writes the byte-level tokenizer's Hugging Face files
// (tokenizer.json, tokenizer_config.json), each through a temporary file
// renamed into place.
#include <errno.h>   // errno
#include <stdio.h>   // FILE, fopen, fprintf, rename
#include <string.h>  // strerror

#include "bytetok.h"
#include "core/fileio.h"  // rlc_path_join

static const char *const specials[] = {"<|bos|>", "<|eos|>", "<|pad|>"};

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the
// others for 256, 257, ... in byte order.
int bytetok_codepoint(int b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return b;
    int n = 0;
    for (int i = 0; i < b; i++) n += !((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF));
    return 256 + n;
}

// The piece of byte b as a JSON string literal (UTF-8, '"' and '\' escaped).
static void put_piece(FILE *f, int b) {
    int cp = bytetok_codepoint(b);
    if (cp == '"' || cp == '\\') fprintf(f, "\"\\%c\"", cp);
    else if (cp < 0x80) fprintf(f, "\"%c\"", cp);
    else fprintf(f, "\"%c%c\"", 0xC0 | (cp >> 6), 0x80 | (cp & 0x3F));  // cp < 0x800
}

static void write_tokenizer_json(FILE *f) {
    static const char bytelevel[] = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
                                    "\"use_regex\": false}";
    fprintf(f, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [\n");
    for (int i = 0; i < 3; i++)
        fprintf(f,
                "    {\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                "\"normalized\": false, \"special\": true}%s\n",
                BYTETOK_BOS + i, specials[i], i < 2 ? "," : "");
    fprintf(f, "  ],\n  \"normalizer\": null,\n  \"pre_tokenizer\": %s,\n  \"post_processor\": %s,\n"
               "  \"decoder\": %s,\n",
            bytelevel, bytelevel, bytelevel);
    fprintf(f, "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
               "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
               "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
               "    \"vocab\": {");
    for (int b = 0; b < 256; b++) {
        fprintf(f, "%s", b % 8 ? ", " : b ? ",\n      " : "\n      ");
        put_piece(f, b);
        fprintf(f, ": %d", b);
    }
    fprintf(f, "\n    },\n    \"merges\": []\n  }\n}\n");
}

static void write_config_json(FILE *f) {
    fprintf(f, "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n"
               "  \"bos_token\": \"%s\",\n  \"eos_token\": \"%s\",\n  \"pad_token\": \"%s\",\n"
               "  \"add_bos_token\": false,\n  \"add_eos_token\": false,\n  \"clean_up_tokenization_spaces\": false,\n"
               "  \"model_max_length\": 2048,\n  \"added_tokens_decoder\": {\n",
            specials[0], specials[1], specials[2]);
    for (int i = 0; i < 3; i++)
        fprintf(f,
                "    \"%d\": {\"content\": \"%s\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, "
                "\"single_word\": false, \"special\": true}%s\n",
                BYTETOK_BOS + i, specials[i], i < 2 ? "," : "");
    fprintf(f, "  }\n}\n");
}

static rlc_status write_file(const char *dir, const char *name, void (*body)(FILE *)) {
    char path[4096], tmp[4200];
    RLC_TRY(rlc_path_join(path, sizeof path, dir, name));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return rlc_errorf(RLC_ERR_IO, "%s: %s", tmp, strerror(errno));
    body(f);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        rlc_status s = rlc_errorf(RLC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        remove(tmp);
        return s;
    }
    return RLC_OK;
}

rlc_status bytetok_write(const char *dir) {
    RLC_TRY(write_file(dir, "tokenizer.json", write_tokenizer_json));
    return write_file(dir, "tokenizer_config.json", write_config_json);
}
