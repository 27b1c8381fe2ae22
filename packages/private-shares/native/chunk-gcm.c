// AES-256-GCM for a private share's chunks, into memory the caller gives. node:crypto has no such
// call: its update() allocates a fresh (zero-filled) Buffer for every chunk's output, which the
// caller then copies where it belongs (a recipient's aligned write memory, a sealed piece being
// sent). On a download bound by the main thread that allocation, the copy, the page faults of
// fresh memory and the collections they start cost more than the AES itself (bench/private).
//
// The OpenSSL calls are the running node's own: Node links OpenSSL and exports its symbols for
// addons (or loads the system's libcrypto where it is built against it). The few prototypes used
// are declared here, so no OpenSSL headers are needed to build; they are OpenSSL's stable EVP API
// (1.1 and 3.x). Built by build.js with -z now: a node without them fails to load this file, and
// src/node/chunk-gcm.ts falls back to node:crypto (as it does where this is not built).
//
// Exports (all synchronous, for the thread that calls them; a context is not shared between threads):
//   context(key: Uint8Array(32)) -> external      the key schedule, made once per share
//   open(ctx, nonce(12), sealed, out) -> boolean  sealed = ciphertext || 16-byte tag, out its
//                                                 plaintext's length; false: the tag does not match
//                                                 (out then holds unauthenticated bytes: drop them)
//   seal(ctx, nonce(12), plain, out)              out = ciphertext || tag; plain may be shorter
//                                                 than out's body: the rest is sealed zeros

#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct engine_st ENGINE;
EVP_CIPHER_CTX *EVP_CIPHER_CTX_new(void);
void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *ctx);
const EVP_CIPHER *EVP_aes_256_gcm(void);
int EVP_CIPHER_CTX_ctrl(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr);
int EVP_DecryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl, const unsigned char *key, const unsigned char *iv);
int EVP_DecryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl);
int EVP_DecryptFinal_ex(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl);
int EVP_EncryptInit_ex(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl, const unsigned char *key, const unsigned char *iv);
int EVP_EncryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl);
int EVP_EncryptFinal_ex(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl);
#define EVP_CTRL_GCM_SET_IVLEN 0x9
#define EVP_CTRL_GCM_GET_TAG 0x10
#define EVP_CTRL_GCM_SET_TAG 0x11

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16

// One context per direction: an init with the cipher and key expands the key once; each chunk
// after it only sets its nonce.
typedef struct {
  EVP_CIPHER_CTX *dec;
  EVP_CIPHER_CTX *enc;
} chunk_key;

static const unsigned char ZEROS[4096];

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  void *p;
  size_t offset;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

static void free_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  chunk_key *k = data;
  EVP_CIPHER_CTX_free(k->dec);
  EVP_CIPHER_CTX_free(k->enc);
  free(k);
}

#define ARGS(n)                                                                  \
  size_t argc = (n);                                                             \
  napi_value argv[(n)];                                                          \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < (n)) \
    return fail(env, "chunk-gcm: expected " #n " arguments")

static napi_value context(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint8_t *key;
  size_t len;
  if (!bytes_of(env, argv[0], &key, &len) || len != KEY_BYTES) return fail(env, "chunk-gcm: the key is 32 bytes");
  chunk_key *k = calloc(1, sizeof *k);
  if (!k) return fail(env, "chunk-gcm: out of memory");
  k->dec = EVP_CIPHER_CTX_new();
  k->enc = EVP_CIPHER_CTX_new();
  int ok = k->dec && k->enc &&
           EVP_DecryptInit_ex(k->dec, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
           EVP_DecryptInit_ex(k->dec, NULL, NULL, key, NULL) == 1 &&
           EVP_EncryptInit_ex(k->enc, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
           EVP_EncryptInit_ex(k->enc, NULL, NULL, key, NULL) == 1;
  if (!ok) {
    free_key(env, k, NULL);
    return fail(env, "chunk-gcm: OpenSSL would not set up AES-256-GCM");
  }
  napi_value out;
  if (napi_create_external(env, k, free_key, NULL, &out) != napi_ok) {
    free_key(env, k, NULL);
    return fail(env, "chunk-gcm: napi_create_external failed");
  }
  return out;
}

static chunk_key *key_of(napi_env env, napi_value v) {
  void *k;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &k) != napi_ok) return NULL;
  return k;
}

// The arguments open and seal share: a key context, a 12-byte nonce and two byte arrays. 0 when
// one is wrong (an error is thrown).
static int chunk_args(napi_env env, napi_value *argv, chunk_key **k, uint8_t **nonce, uint8_t **in, size_t *in_len, uint8_t **out, size_t *out_len) {
  size_t nonce_len;
  const char *why = NULL;
  if (!(*k = key_of(env, argv[0]))) why = "chunk-gcm: not a key context";
  else if (!bytes_of(env, argv[1], nonce, &nonce_len) || nonce_len != NONCE_BYTES) why = "chunk-gcm: the nonce is 12 bytes";
  else if (!bytes_of(env, argv[2], in, in_len) || !bytes_of(env, argv[3], out, out_len)) why = "chunk-gcm: the chunk and out are Uint8Arrays";
  else if (*out_len > INT32_MAX || *in_len > INT32_MAX) why = "chunk-gcm: a chunk is under 2 GiB";
  if (why) fail(env, why);
  return why == NULL;
}

static napi_value open_chunk(napi_env env, napi_callback_info info) {
  ARGS(4);
  chunk_key *k;
  uint8_t *nonce, *sealed, *out;
  size_t sealed_len, out_len;
  if (!chunk_args(env, argv, &k, &nonce, &sealed, &sealed_len, &out, &out_len)) return NULL;
  if (sealed_len != out_len + TAG_BYTES) return fail(env, "chunk-gcm: out is the sealed chunk's length less its 16-byte tag");
  int n = 0, last = 0;
  unsigned char tag[TAG_BYTES];
  memcpy(tag, sealed + out_len, TAG_BYTES); // read before out is written: out may be sealed's own memory
  int ok = EVP_DecryptInit_ex(k->dec, NULL, NULL, NULL, nonce) == 1 &&
           EVP_DecryptUpdate(k->dec, out, &n, sealed, (int)out_len) == 1 &&
           EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1 &&
           EVP_DecryptFinal_ex(k->dec, out + n, &last) == 1;
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

static napi_value seal_chunk(napi_env env, napi_callback_info info) {
  ARGS(4);
  chunk_key *k;
  uint8_t *nonce, *plain, *out;
  size_t plain_len, out_len;
  if (!chunk_args(env, argv, &k, &nonce, &plain, &plain_len, &out, &out_len)) return NULL;
  if (out_len < TAG_BYTES || plain_len > out_len - TAG_BYTES) return fail(env, "chunk-gcm: out holds the plaintext (zero-padded) and a 16-byte tag");
  size_t body = out_len - TAG_BYTES;
  int n = 0;
  if (EVP_EncryptInit_ex(k->enc, NULL, NULL, NULL, nonce) != 1 || EVP_EncryptUpdate(k->enc, out, &n, plain, (int)plain_len) != 1) return fail(env, "chunk-gcm: sealing failed");
  for (size_t at = plain_len; at < body;) {
    int step = body - at < sizeof ZEROS ? (int)(body - at) : (int)sizeof ZEROS;
    if (EVP_EncryptUpdate(k->enc, out + at, &n, ZEROS, step) != 1) return fail(env, "chunk-gcm: sealing failed");
    at += step;
  }
  if (EVP_EncryptFinal_ex(k->enc, out + body, &n) != 1 || EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out + body) != 1) return fail(env, "chunk-gcm: sealing failed");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"context", NULL, context, NULL, NULL, NULL, napi_default, NULL},
    {"open", NULL, open_chunk, NULL, NULL, NULL, napi_default, NULL},
    {"seal", NULL, seal_chunk, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
