// cmd_generate.c: `rlc generate`: streams text from a model with a KV cache,
// then reports prefill and decode tokens/s.
#include <libgen.h>  // dirname
#include <stdio.h>   // printf, fprintf
#include <stdlib.h>  // atoi
#include <string.h>  // strcmp

#include "actor/chat.h"       // chat templates
#include "actor/generate.h"   // actor_gen_*
#include "actor/stop.h"       // stop strings
#include "actor/tokenizer.h"  // tok_*
#include "args.h"
#include "commands.h"
#include "core/core.h"

#define GEN_MAX_STOPS 16

typedef struct {
    const char *model, *tokenizer, *prompt, *prompt_file, *system, *template_name;
    const char *stops[GEN_MAX_STOPS];
    int n_stops, chat, threads, raw_tokens;
    actor_sampling sampling;
} gen_options;

static void usage(void) {
    printf("usage: rlc generate --model PATH [options]\n\n"
           "Generates text with a KV cache and streams it to stdout; prefill and decode\n"
           "tokens/s go to stderr at the end. PATH is a Hugging Face model directory\n"
           "(config.json + model.safetensors, tokenizer files) or a llama2.c .bin file.\n\n"
           "  --prompt TEXT        the prompt (default: BOS alone)\n"
           "  --prompt-file F      read the prompt from a file\n"
           "  --chat               wrap the prompt as a user message in the chat template\n"
           "  --system TEXT        system message for --chat\n"
           "  --template NAME      chat template: chatml, qwen2.5, qwen3, llama3 or plain\n"
           "                       (default: recognized from tokenizer_config.json)\n"
           "  --tokenizer PATH     tokenizer.json, a directory, or a llama2.c tokenizer.bin\n"
           "                       (default: next to the model)\n"
           "  -n N                 new tokens at most (default 256)\n"
           "  --temperature T      0 is greedy (default 1.0)\n"
           "  --top-p P            nucleus sampling (default 1.0: off)\n"
           "  --top-k K            top-k sampling (default 0: off)\n"
           "  --seed S             sampling seed (default 0)\n"
           "  --stop STR           stop when STR is generated (repeatable)\n"
           "  --threads N          CPU threads (default: all cores)\n"
           "  --tokens             print token ids and log-probs instead of text\n");
}

static int parse(int argc, char **argv, gen_options *o) {
    memset(o, 0, sizeof *o);
    o->sampling = actor_sampling_default();
    for (int i = 1; i < argc; i++) {
        int bad = 0;
        long long iv;
        double fv;
        const char *sv;
        if (arg_flag(argv, &i, "--help") || arg_flag(argv, &i, "-h")) {
            usage();
            return 1;
        } else if (arg_str(argc, argv, &i, "--model", &o->model, &bad)) {
        } else if (arg_str(argc, argv, &i, "--tokenizer", &o->tokenizer, &bad)) {
        } else if (arg_str(argc, argv, &i, "--prompt", &o->prompt, &bad)) {
        } else if (arg_str(argc, argv, &i, "--prompt-file", &o->prompt_file, &bad)) {
        } else if (arg_str(argc, argv, &i, "--system", &o->system, &bad)) {
        } else if (arg_str(argc, argv, &i, "--template", &o->template_name, &bad)) {
        } else if (arg_flag(argv, &i, "--chat")) {
            o->chat = 1;
        } else if (arg_flag(argv, &i, "--tokens")) {
            o->raw_tokens = 1;
        } else if (arg_str(argc, argv, &i, "--stop", &sv, &bad)) {
            if (!bad && o->n_stops == GEN_MAX_STOPS) {
                fprintf(stderr, "rlc generate: at most %d --stop strings\n", GEN_MAX_STOPS);
                return 2;
            }
            if (!bad) o->stops[o->n_stops++] = sv;
        } else if (arg_int(argc, argv, &i, "-n", &iv, &bad)) {
            o->sampling.max_new_tokens = (int)iv;
            bad |= iv <= 0;
        } else if (arg_float(argc, argv, &i, "--temperature", &fv, &bad)) {
            o->sampling.temperature = (float)fv;
            bad |= fv < 0;
        } else if (arg_float(argc, argv, &i, "--top-p", &fv, &bad)) {
            o->sampling.top_p = (float)fv;
            bad |= fv <= 0 || fv > 1;
        } else if (arg_int(argc, argv, &i, "--top-k", &iv, &bad)) {
            o->sampling.top_k = (int)iv;
            bad |= iv < 0;
        } else if (arg_int(argc, argv, &i, "--seed", &iv, &bad)) {
            o->sampling.seed = (uint64_t)iv;
        } else if (arg_int(argc, argv, &i, "--threads", &iv, &bad)) {
            o->threads = (int)iv;
        } else {
            fprintf(stderr, "rlc generate: unknown option '%s' (rlc generate --help)\n", argv[i]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "rlc generate: bad value for %s\n", argv[i - 1 > 0 ? i - 1 : i]);
            return 2;
        }
    }
    if (!o->model) {
        fprintf(stderr, "rlc generate: --model PATH is required (rlc generate --help)\n");
        return 2;
    }
    if (o->prompt && o->prompt_file) {
        fprintf(stderr, "rlc generate: give --prompt or --prompt-file, not both\n");
        return 2;
    }
    return 0;
}

// The tokenizer next to the model: the model directory itself, or for a
// llama2.c file, tokenizer.bin or tok<vocab>.bin beside it.
static rlc_status find_tokenizer(const gen_options *o, int vocab, char *buf, size_t cap) {
    if (o->tokenizer) {
        snprintf(buf, cap, "%s", o->tokenizer);
        return RLC_OK;
    }
    if (rlc_is_dir(o->model)) {
        snprintf(buf, cap, "%s", o->model);
        return RLC_OK;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", o->model);
    const char *dir = dirname(tmp);
    char name[64];
    snprintf(name, sizeof name, "tok%d.bin", vocab);
    const char *candidates[] = {"tokenizer.bin", name};
    for (int i = 0; i < 2; i++) {
        RLC_TRY(rlc_path_join(buf, cap, dir, candidates[i]));
        if (rlc_file_exists(buf)) return RLC_OK;
    }
    return rlc_errorf(RLC_ERR_IO, "%s: no tokenizer.bin or %s beside the model; pass --tokenizer", dir, name);
}

// Renders the prompt text (chat-wrapped if asked) and tokenizes it.
static rlc_status build_prompt(const gen_options *o, const tok_tokenizer *tk, int **ids, int *n) {
    char *file_text = NULL;
    size_t file_len = 0;
    const char *text = o->prompt ? o->prompt : "";
    if (o->prompt_file) {
        RLC_TRY(rlc_read_file(o->prompt_file, &file_text, &file_len));
        text = file_text;
    }
    char *rendered = NULL;
    rlc_status s = RLC_OK;
    if (o->chat) {
        chat_message msgs[2];
        int n_msgs = 0;
        if (o->system) msgs[n_msgs++] = (chat_message){"system", o->system};
        msgs[n_msgs++] = (chat_message){"user", text};
        chat_template *tpl = NULL;
        size_t rendered_len;
        s = chat_template_for(tk, o->template_name, &tpl);
        if (s == RLC_OK) s = chat_render(tpl, msgs, (size_t)n_msgs, 1, &rendered, &rendered_len);
        if (s == RLC_OK) text = rendered;
        chat_template_free(tpl);
    }
    // Chat templates write their own BOS; a plain prompt gets one if the
    // tokenizer adds it (Llama-2, llama2.c) or when the prompt is empty.
    size_t n_ids = 0;
    if (s == RLC_OK) s = tok_encode(tk, text, strlen(text), o->chat ? 0 : TOK_ENCODE_ADD_SPECIAL, ids, &n_ids);
    rlc_free(rendered);
    rlc_free(file_text);
    if (s != RLC_OK) return s;
    if (n_ids == 0) {  // an empty prompt starts from BOS alone
        int bos = tok_bos_id(tk);
        rlc_free(*ids);
        *ids = NULL;
        if (bos < 0) return rlc_errorf(RLC_ERR_ARG, "empty prompt and the tokenizer has no BOS token; give --prompt");
        if (!(*ids = rlc_malloc(sizeof(int)))) return rlc_errorf(RLC_ERR_NOMEM, "prompt");
        (*ids)[0] = bos;
        n_ids = 1;
    }
    *n = (int)n_ids;
    return RLC_OK;
}

typedef struct {
    const tok_tokenizer *tk;
    tok_stream *stream;
    actor_stop *stop;
    int raw_tokens, n_generated;
} gen_sink;

// Streams each token's text through the stop-string filter to stdout.
static int on_token(void *ud, int seq_id, int token, float logprob, actor_finish finish) {
    gen_sink *k = ud;
    k->n_generated++;
    if (k->raw_tokens) {
        printf("%d\t%.6f\n", token, logprob);
        return 0;
    }
    if (finish == ACTOR_FINISH_STOP) return 0;        // the model's eos: not shown
    if (tok_is_eos(k->tk, token)) return 1;           // the tokenizer's eos (chat models)
    const char *piece;
    size_t piece_len;
    const char *out;
    size_t out_len;
    int matched = 0;
    if (tok_stream_push(k->stream, token, &piece, &piece_len) != RLC_OK) return 1;
    if (actor_stop_push(k->stop, piece, piece_len, &out, &out_len, &matched) != RLC_OK) return 1;
    fwrite(out, 1, out_len, stdout);
    fflush(stdout);
    return matched;
}

static rlc_status run(const gen_options *o) {
    kernels_set_threads(o->threads);
    actor_model *m = NULL;
    tok_tokenizer *tk = NULL;
    actor_gen *g = NULL;
    gen_sink sink = {0};
    int *ids = NULL, n_ids = 0;
    char tok_path[4096];
    rlc_status s = actor_model_load(o->model, &m);
    if (s == RLC_OK) s = find_tokenizer(o, actor_model_config(m)->vocab_size, tok_path, sizeof tok_path);
    if (s == RLC_OK) s = tok_load(tok_path, &tk);
    if (s == RLC_OK) s = build_prompt(o, tk, &ids, &n_ids);
    int max_seq = n_ids + o->sampling.max_new_tokens;
    if (s == RLC_OK && max_seq > actor_model_config(m)->max_position && actor_model_config(m)->max_position > 0)
        max_seq = actor_model_config(m)->max_position;
    if (s == RLC_OK) s = actor_gen_create(m, 1, max_seq, &g);
    int id;
    if (s == RLC_OK) s = actor_gen_add(g, ids, n_ids, &o->sampling, &id);
    if (s == RLC_OK) s = tok_stream_create(tk, TOK_DECODE_SKIP_SPECIAL, &sink.stream);
    // The prompt goes through the stream unseen, so that the first generated
    // piece is decoded in its context (a SentencePiece leading space).
    for (int i = 0; s == RLC_OK && i < n_ids; i++) {
        const char *unused;
        size_t unused_len;
        s = tok_stream_push(sink.stream, ids[i], &unused, &unused_len);
    }
    if (s == RLC_OK) s = actor_stop_create(o->stops, o->n_stops, &sink.stop);
    sink.tk = tk;
    sink.raw_tokens = o->raw_tokens;
    int pending = 1;
    while (s == RLC_OK && pending > 0) s = actor_gen_step(g, on_token, &sink, &pending);
    if (s == RLC_OK && !o->raw_tokens) {
        const char *rest;
        size_t rest_len;
        if (tok_stream_flush(sink.stream, &rest, &rest_len) == RLC_OK) {
            int matched;
            const char *out;
            size_t out_len;
            if (actor_stop_push(sink.stop, rest, rest_len, &out, &out_len, &matched) == RLC_OK)
                fwrite(out, 1, out_len, stdout);
        }
        actor_stop_flush(sink.stop, &rest, &rest_len);
        fwrite(rest, 1, rest_len, stdout);
        printf("\n");
        fflush(stdout);
    }
    if (s == RLC_OK) {
        long long pt, dt;
        double ps, ds;
        actor_gen_stats(g, &pt, &ps, &dt, &ds);
        fprintf(stderr, "prefill: %lld tokens, %.1f tok/s | decode: %lld tokens, %.1f tok/s | threads %d\n",
                pt, ps > 0 ? pt / ps : 0.0, dt, ds > 0 ? dt / ds : 0.0, kernels_get_threads());
    }
    actor_stop_free(sink.stop);
    tok_stream_free(sink.stream);
    rlc_free(ids);
    actor_gen_free(g);
    tok_free(tk);
    actor_model_free(m);
    return s;
}

int cmd_generate(int argc, char **argv) {
    gen_options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    rlc_status s = run(&o);
    if (s != RLC_OK) {
        fprintf(stderr, "rlc generate: %s\n", rlc_last_error());
        return 1;
    }
    return 0;
}
