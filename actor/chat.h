// chat.h: chat templates: a list of {role, content} messages -> prompt text.
//
// Built-in templates (no Jinja engine; each is C code that renders what the
// model's own Jinja template renders for conversations without tools):
//   "chatml"  <|im_start|>role\ncontent<|im_end|>\n per message; generation
//             prompt <|im_start|>assistant\n. A default system message is
//             added when the model's template has one (SmolLM2, Qwen2).
//   "qwen2.5" ChatML with Qwen2.5's rules: the default system message "You are
//             Qwen, created by Alibaba Cloud. You are a helpful assistant."
//             when the first message is not a system one; "tool" messages
//             grouped into one user turn of <tool_response> blocks; other roles
//             left out.
//   "qwen3"   ChatML with Qwen3's rules: no default system message; the
//             assistant turns after the last user query get a <think> block.
//   "llama3"  <|begin_of_text|> then <|start_header_id|>role<|end_header_id|>\n\n
//             content (trimmed)<|eot_id|> per message; generation prompt
//             <|start_header_id|>assistant<|end_header_id|>\n\n.
//   "plain"   "role: content\n" per message; generation prompt "assistant: ".
// The rendered text already holds the special tokens (and, for llama3, BOS):
// encode it without TOK_ENCODE_ADD_SPECIAL.
#ifndef RLC_CHAT_H
#define RLC_CHAT_H

#include <stddef.h>  // size_t

#include "actor/tokenizer.h"  // tok_tokenizer
#include "core/status.h"      // rlc_status

typedef struct {
    const char *role;     // "system", "user", "assistant", "tool"
    const char *content;  // UTF-8, NUL-terminated
} chat_message;

typedef struct chat_template chat_template;

// A built-in template by name (see above). RLC_ERR_ARG for an unknown name
// (the message lists the known ones). The caller frees *out.
rlc_status chat_template_from_name(const char *name, chat_template **out);

// Recognizes a Hugging Face chat_template (Jinja source) by its markers.
// RLC_ERR_UNSUPPORTED when it is none of the built-in formats.
rlc_status chat_template_detect(const char *jinja, chat_template **out);

// The template for a tokenizer: `name` when not NULL, otherwise the one
// detected from its tokenizer_config.json chat_template, otherwise (none, or
// not recognized: logged as a warning) "plain".
rlc_status chat_template_for(const tok_tokenizer *tok, const char *name, chat_template **out);

// The template's name ("qwen2.5", "chatml", ...). Borrowed from t.
const char *chat_template_name(const chat_template *t);
// The default system message, or NULL. Borrowed from t.
const char *chat_template_default_system(const chat_template *t);

// Renders n messages (n may be 0 except for qwen2.5 / qwen3, whose templates
// read the first message), followed by the generation prompt when
// add_generation_prompt. *text: a new NUL-terminated buffer of *len bytes that
// the caller frees with rlc_free. Errors: RLC_ERR_ARG (a message without role
// or content), RLC_ERR_NOMEM.
rlc_status chat_render(const chat_template *t, const chat_message *msgs, size_t n, int add_generation_prompt,
                       char **text, size_t *len);

void chat_template_free(chat_template *t);  // NULL is fine

#endif
