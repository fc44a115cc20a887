#include "http/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stop_token>

#include "util/url_credentials.h"

namespace tasker::http {
namespace {

// curl_global_init is not thread-safe; do it once before the first handle.
void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

struct Transfer {
  const Request* request;
  Response* response;
  bool aborted = false;
  long status = 0;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->request->on_body) {
    if (!transfer->request->on_body(std::string_view(data, bytes))) {
      transfer->aborted = true;
      return 0;
    }
  } else {
    transfer->response->body.append(data, bytes);
  }
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->request->abort_if && transfer->request->abort_if()) {
    transfer->aborted = true;
    return 1;
  }
  return 0;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  // A new status line (after a redirect or 100-continue) starts a fresh header set.
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response->headers.clear();
    const auto space = line.find(' ');
    transfer->status = space == std::string_view::npos ? 0 : std::atol(line.data() + space + 1);
    return bytes;
  }
  // The blank line ends a header block; only a final (non-1xx) one opens the body.
  if (line == "\r\n" || line == "\n") {
    if (transfer->status >= 200 && transfer->request->on_headers) {
      transfer->request->on_headers(transfer->status);
    }
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  transfer->response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                           std::string(trim(line.substr(colon + 1))));
  return bytes;
}

// Where the transfer's bytes go, its limits, and the abort poll when the request has one.
void set_transfer_options(CURL* curl, const Request& request, Transfer& transfer) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (request.abort_if) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
}

// Whether the request's method carries a body (all but GET and HEAD).
bool sends_body(const Request& request) {
  return request.method != "GET" && request.method != "HEAD";
}

// The request's method, and its body when the method has one.
void set_method(CURL* curl, const Request& request) {
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    return;
  }
  if (request.method != "POST") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(request.body.size()));
}

// A curl header list, freed when the request is done with it.
using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// The request's headers as libcurl takes them.
HeaderList header_list(const Request& request) {
  curl_slist* headers = nullptr;
  for (const auto& [key, value] : request.headers) {
    const std::string line = key + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  // libcurl would add "Expect: 100-continue" to large POSTs; that costs a round trip, so
  // suppress it. Not on signed requests: libcurl 7.88's SigV4 signs the empty "Expect:" line it
  // never sends, so servers reject the signature (it adds no Expect to bodies under 1 MiB anyway).
  if (sends_body(request) && !request.aws_sigv4) {
    headers = curl_slist_append(headers, "Expect:");
  }
  return HeaderList(headers, &curl_slist_free_all);
}

// AWS SigV4 signing by libcurl, when the request asks for it.
void set_aws_signing(CURL* curl, const Request& request) {
  if (!request.aws_sigv4) return;
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_sigv4->c_str());
  if (request.aws_keys) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.aws_keys->first.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.aws_keys->second.c_str());
  }
}

Error curl_error(CURLcode code, const Request& request, const char* detail) {
  std::string message = request.method + " " + without_url_credentials(request.url) + ": " +
                        (detail[0] != '\0' ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error::timeout(message);
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Error::unavailable(message);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Error::transient_failure(message);
    default:
      return Error::internal(message);
  }
}

// Runs the transfer on `multi` (the loop curl_easy_perform runs inside), so that a stop on
// `cancel` wakes the wait at once (curl_multi_wakeup may be called from any thread) rather than at
// libcurl's next idle tick, up to a second later. Every request of a transport goes this way, so
// they share the multi handle's one connection cache.
CURLcode perform_on_multi(CURLM* multi, CURL* curl, const std::stop_token& cancel,
                             Transfer& transfer) {
  if (cancel.stop_requested()) {
    transfer.aborted = true;
    return CURLE_ABORTED_BY_CALLBACK;
  }
  curl_multi_add_handle(multi, curl);
  CURLcode code = CURLE_OK;
  {
    std::stop_callback wake(cancel, [multi] { curl_multi_wakeup(multi); });
    for (;;) {
      int running = 0;
      if (curl_multi_perform(multi, &running) != CURLM_OK) {
        code = CURLE_FAILED_INIT;
        break;
      }
      if (running == 0) {
        int left = 0;
        while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
          if (message->msg == CURLMSG_DONE) code = message->data.result;
        }
        break;
      }
      if (cancel.stop_requested()) {
        transfer.aborted = true;
        break;
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
  }
  curl_multi_remove_handle(multi, curl);
  return code;
}

}  // namespace

std::string Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return "";
}

struct CurlTransport::Impl {
  Options options;
  CURL* handle = nullptr;
  /// Runs every transfer of `handle` (see perform_on_multi).
  CURLM* multi = nullptr;
};

CurlTransport::CurlTransport(Options options) : impl_(std::make_unique<Impl>()) {
  global_init_once();
  impl_->options = std::move(options);
  impl_->handle = curl_easy_init();
  impl_->multi = curl_multi_init();
}

CurlTransport::~CurlTransport() {
  if (impl_->handle != nullptr) curl_easy_cleanup(impl_->handle);
  if (impl_->multi != nullptr) curl_multi_cleanup(impl_->multi);
}

Expected<Response> CurlTransport::perform(const Request& request) {
  CURL* curl = impl_->handle;
  if (curl == nullptr) return Error::internal("libcurl could not create a handle");
  // Reset options but keep the connection cache, so keep-alive connections are reused.
  curl_easy_reset(curl);

  Response response;
  Transfer transfer{&request, &response};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, impl_->options.user_agent.c_str());
  if (impl_->options.unix_socket) {
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, impl_->options.unix_socket->c_str());
  }
  set_transfer_options(curl, request, transfer);
  set_method(curl, request);
  const HeaderList headers = header_list(request);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  set_aws_signing(curl, request);

  CURLcode code = CURLE_OK;
  if (impl_->multi != nullptr) {
    code = perform_on_multi(impl_->multi, curl, request.cancel, transfer);
  } else {
    code = curl_easy_perform(curl);
  }
  // Don't leave the secret in the handle longer than the request.
  curl_easy_setopt(curl, CURLOPT_PASSWORD, "");

  if (transfer.aborted) return Error::cancelled("aborted");
  if (code != CURLE_OK) return curl_error(code, request, error_buffer);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string url_encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace tasker::http
