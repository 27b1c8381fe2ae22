// A UDP socket for the tracker that moves datagrams in batches: recvmmsg(2) and sendmmsg(2),
// Linux only. Node's dgram hands JavaScript one datagram per callback, with a fresh Buffer, an
// address string and an object each, and sends with one sendmsg(2) per reply through several
// layers of checks: that is most of the CPU a UDP announce costs (see ../README.md, UDP speed).
// Here a wake-up reads up to SLOTS datagrams into one receive ring that JavaScript views, calls
// JavaScript once for the lot, and JavaScript writes its replies into a send ring that goes out
// in one sendmmsg(2). Nothing is allocated per datagram on this side.
//
// Node-API only (plus libuv's poll handle for the event loop, which Node exports), so one build
// serves every Node version. Built by build.js; src/udp/transport-mmsg.ts loads it, and the
// tracker falls back to dgram where it is missing.
//
// Ring layout, shared with transport-mmsg.ts: slot i of a ring holds a datagram at i * SLOT_BYTES;
// its metadata is META_BYTES at i * META_BYTES:
//   0..4   length (int32, native order); a receive longer than the slot reads as SLOT_BYTES + 1
//   4..8   IPv6 scope id (uint32, native order)
//   8..10  port (uint16, native order)
//   10     family of the address: 4 or 6 (receive only)
//   12..28 address, 16 bytes, IPv4 mapped as ::ffff:a.b.c.d

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define SLOTS 64
#define SLOT_BYTES 1500
#define META_BYTES 32
// Receive batches per wake-up before the event loop gets a turn (timers, HTTP).
#define ROUNDS 8

typedef struct {
  int fd;
  int v6;
  int closing;
  napi_env env;
  uv_poll_t poll;
  napi_ref onBatch;
  napi_ref resource;
  napi_ref rings;
  napi_async_context actx;
  uint8_t *rx, *rxMeta, *tx, *txMeta;
  struct mmsghdr rmsgs[SLOTS], tmsgs[SLOTS];
  struct iovec riov[SLOTS], tiov[SLOTS];
  struct sockaddr_storage raddr[SLOTS], taddr[SLOTS];
} Sock;

#define CHECK(call)                                                 \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      napi_throw_error(env, NULL, "udp-mmsg: " #call " failed");    \
      return NULL;                                                  \
    }                                                               \
  } while (0)

// Declares argv[n] and fills it with the call's arguments.
#define ARGS(n)                                                        \
  size_t argc = (n);                                                   \
  napi_value argv[(n) > 0 ? (n) : 1];                                  \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, e;
  // The codes callers act on (the CLI falls back to IPv4 on the last two), as Node names them.
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EINVAL ? "EINVAL" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EAFNOSUPPORT ? "EAFNOSUPPORT" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &e);
  napi_set_named_property(env, e, "code", code);
  napi_throw(env, e);
  return NULL;
}

static uint8_t *bytes_of(napi_env env, napi_value v, size_t need) {
  void *data;
  size_t len;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok) return NULL;
  if (type != napi_uint8_array || len < need) return NULL;
  return data;
}

static void write_meta(Sock *s, int i, uint32_t len) {
  uint8_t *m = s->rxMeta + i * META_BYTES;
  memset(m, 0, META_BYTES);
  memcpy(m, &len, 4);
  if (s->raddr[i].ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->raddr[i];
    uint16_t port = ntohs(a->sin6_port);
    uint32_t scope = a->sin6_scope_id;
    memcpy(m + 4, &scope, 4);
    memcpy(m + 8, &port, 2);
    m[10] = 6;
    memcpy(m + 12, &a->sin6_addr, 16);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&s->raddr[i];
    uint16_t port = ntohs(a->sin_port);
    memcpy(m + 8, &port, 2);
    m[10] = 4;
    m[22] = m[23] = 0xff;
    memcpy(m + 24, &a->sin_addr, 4);
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  Sock *s = h->data;
  if (status < 0 || s->closing) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, res;
  napi_get_reference_value(env, s->onBatch, &fn);
  napi_get_reference_value(env, s->resource, &res);
  for (int round = 0; round < ROUNDS && !s->closing; round++) {
    for (int i = 0; i < SLOTS; i++) s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    int n = recvmmsg(s->fd, s->rmsgs, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      // Unconnected UDP sockets report no ICMP errors, but a stray one must not stop the reading.
      if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) continue;
      break;
    }
    if (n == 0) break;
    for (int i = 0; i < n; i++) {
      uint32_t len = s->rmsgs[i].msg_len;
      if (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) len = SLOT_BYTES + 1;
      write_meta(s, i, len);
    }
    napi_value count, result;
    napi_create_int32(env, n, &count);
    // A callback scope, so promise jobs and nextTicks queued by the batch run after it, as after
    // any I/O callback.
    if (napi_make_callback(env, s->actx, res, fn, 1, &count, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
      break;
    }
    if (n < SLOTS) break;
  }
  napi_close_handle_scope(env, scope);
}

// open(host: string, port: number, ipv6Only: boolean, recvBufferSize: number, sendBufferSize: number) -> [fd, port]
static napi_value Open(napi_env env, napi_callback_info info) {
  ARGS(5);
  char host[64];
  size_t hl;
  int32_t port, v6only, rcv, snd;
  bool b;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_bool(env, argv[2], &b));
  v6only = b;
  CHECK(napi_get_value_int32(env, argv[3], &rcv));
  CHECK(napi_get_value_int32(env, argv[4], &snd));
  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  int v6 = strchr(host, ':') != NULL;
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return throw_errno(env, "bad IPv6 address", EINVAL);
    sl = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return throw_errno(env, "bad IPv4 address", EINVAL);
    sl = sizeof *a;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  if (rcv > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (snd > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  int bound = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  napi_value out, vfd, vport;
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_int32(env, fd, &vfd));
  CHECK(napi_create_int32(env, bound, &vport));
  CHECK(napi_set_element(env, out, 0, vfd));
  CHECK(napi_set_element(env, out, 1, vport));
  return out;
}

static void on_closed(uv_handle_t *h) {
  Sock *s = h->data;
  // Here rather than in Close: close() may come from inside this socket's own batch callback.
  napi_async_destroy(s->env, s->actx);
  napi_delete_reference(s->env, s->onBatch);
  napi_delete_reference(s->env, s->resource);
  napi_delete_reference(s->env, s->rings);
  close(s->fd);
  free(s);
}

// start(fd, v6: boolean, rings: {rx, rxMeta, tx, txMeta}, onBatch(n)) -> handle
static napi_value Start(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  bool v6;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_bool(env, argv[1], &v6));
  Sock *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "calloc", ENOMEM);
  s->fd = fd;
  s->v6 = v6;
  s->env = env;
  napi_value rx, rxMeta, tx, txMeta;
  CHECK(napi_get_named_property(env, argv[2], "rx", &rx));
  CHECK(napi_get_named_property(env, argv[2], "rxMeta", &rxMeta));
  CHECK(napi_get_named_property(env, argv[2], "tx", &tx));
  CHECK(napi_get_named_property(env, argv[2], "txMeta", &txMeta));
  s->rx = bytes_of(env, rx, SLOTS * SLOT_BYTES);
  s->rxMeta = bytes_of(env, rxMeta, SLOTS * META_BYTES);
  s->tx = bytes_of(env, tx, SLOTS * SLOT_BYTES);
  s->txMeta = bytes_of(env, txMeta, SLOTS * META_BYTES);
  if (!s->rx || !s->rxMeta || !s->tx || !s->txMeta) {
    free(s);
    napi_throw_type_error(env, NULL, "udp-mmsg: rings of the wrong size");
    return NULL;
  }
  for (int i = 0; i < SLOTS; i++) {
    s->riov[i].iov_base = s->rx + i * SLOT_BYTES;
    s->riov[i].iov_len = SLOT_BYTES;
    s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
    s->rmsgs[i].msg_hdr.msg_iovlen = 1;
    s->rmsgs[i].msg_hdr.msg_name = &s->raddr[i];
    s->tiov[i].iov_base = s->tx + i * SLOT_BYTES;
    s->tmsgs[i].msg_hdr.msg_iov = &s->tiov[i];
    s->tmsgs[i].msg_hdr.msg_iovlen = 1;
    s->tmsgs[i].msg_hdr.msg_name = &s->taddr[i];
  }
  napi_value res, name;
  CHECK(napi_create_object(env, &res));
  CHECK(napi_create_string_utf8(env, "CascadeUdpMmsg", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_reference(env, argv[3], 1, &s->onBatch));
  CHECK(napi_create_reference(env, res, 1, &s->resource));
  CHECK(napi_create_reference(env, argv[2], 1, &s->rings));
  CHECK(napi_async_init(env, res, name, &s->actx));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  s->poll.data = s;
  if (uv_poll_init(loop, &s->poll, fd) != 0 || uv_poll_start(&s->poll, UV_READABLE, on_readable) != 0) {
    napi_throw_error(env, NULL, "udp-mmsg: cannot poll the socket");
    return NULL;
  }
  napi_value handle;
  CHECK(napi_create_external(env, s, NULL, NULL, &handle));
  return handle;
}

static Sock *sock_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

// send(handle, n) -> datagrams the kernel would not take now (its send buffer full): dropped
static napi_value Send(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t n;
  Sock *s = sock_of(env, argv[0]);
  CHECK(napi_get_value_int32(env, argv[1], &n));
  if (!s || s->closing || n <= 0) {
    napi_value z;
    napi_create_int32(env, n > 0 ? n : 0, &z);
    return z;
  }
  if (n > SLOTS) n = SLOTS;
  for (int i = 0; i < n; i++) {
    uint8_t *m = s->txMeta + i * META_BYTES;
    uint32_t len, scope;
    uint16_t port;
    memcpy(&len, m, 4);
    memcpy(&scope, m + 4, 4);
    memcpy(&port, m + 8, 2);
    s->tiov[i].iov_len = len > SLOT_BYTES ? SLOT_BYTES : len;
    memset(&s->taddr[i], 0, sizeof(struct sockaddr_in6));
    if (s->v6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->taddr[i];
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      a->sin6_scope_id = scope;
      memcpy(&a->sin6_addr, m + 12, 16);
      s->tmsgs[i].msg_hdr.msg_namelen = sizeof *a;
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&s->taddr[i];
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      memcpy(&a->sin_addr, m + 24, 4);
      s->tmsgs[i].msg_hdr.msg_namelen = sizeof *a;
    }
  }
  int sent = 0, dropped = 0;
  while (sent < n) {
    int r = sendmmsg(s->fd, s->tmsgs + sent, n - sent, MSG_DONTWAIT);
    if (r > 0) {
      sent += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      // The send buffer is full: UDP may drop, and the client asks again.
      dropped += n - sent;
      break;
    } else {
      // This one datagram cannot go (an unreachable or invalid address): skip it.
      sent++;
      dropped++;
    }
  }
  napi_value out;
  CHECK(napi_create_int32(env, dropped, &out));
  return out;
}

// close(handle): stops reading; the socket closes once libuv lets go of it.
static napi_value Close(napi_env env, napi_callback_info info) {
  ARGS(1);
  Sock *s = sock_of(env, argv[0]);
  if (!s || s->closing) return NULL;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, Start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, 4, props));
  napi_value v;
  CHECK(napi_create_int32(env, SLOTS, &v));
  CHECK(napi_set_named_property(env, exports, "slots", v));
  CHECK(napi_create_int32(env, SLOT_BYTES, &v));
  CHECK(napi_set_named_property(env, exports, "slotBytes", v));
  CHECK(napi_create_int32(env, META_BYTES, &v));
  CHECK(napi_set_named_property(env, exports, "metaBytes", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
