// Throughput of trivial containers through the DockerRuntime, through `docker run --rm`, and
// through a bare floor (create, start, wait, logs, remove over the socket, nothing else), on the
// same daemon in one run, sequentially and 4-way parallel.
//
//   docker_runtime_bench [N] [IMAGE]     (DOCKER_HOST as for tasker; IMAGE needs `echo`)
//   docker_runtime_bench floor N WORKERS [IMAGE]   only the floor, once: prints its seconds (for
//                                                  bench/run_vs_xargs.sh, which interleaves it)

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "http/http_client.h"
#include "model/json_util.h"

namespace {

using namespace tasker;
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Measurement {
  double seconds = 0;
  double cpu_ms_per_task = 0;
  int failures = 0;
};

// Runs `one(i)` for i in [0, n) on `workers` threads; one returns false on failure.
Measurement measure(int n, int workers, const std::function<bool(int, int)>& one) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  const double cpu_before = cpu_seconds();
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = next++; i < n; i = next++) {
        if (!one(w, i)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Measurement m;
  m.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  m.cpu_ms_per_task = (cpu_seconds() - cpu_before) * 1000.0 / n;
  m.failures = failures;
  return m;
}

// The floor: the least a client can do per container, one keep-alive connection per worker.
class Floor {
 public:
  Floor(const docker::Endpoint& endpoint, std::string version, std::string image, int workers)
      : endpoint_(endpoint), prefix_(endpoint.base_url + "/v" + version), image_(std::move(image)) {
    for (int w = 0; w < workers; ++w) {
      transports_.push_back(std::make_unique<http::CurlTransport>(
          http::CurlTransport::Options{endpoint.unix_socket, "floor"}));
    }
  }

  bool run(int worker) {
    http::Transport& t = *transports_[worker];
    auto call = [&](const std::string& method, const std::string& path, std::string body = "") {
      http::Request request;
      request.method = method;
      request.url = prefix_ + path;
      request.body = std::move(body);
      if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
      request.timeout = std::chrono::milliseconds(120000);
      return t.perform(request);
    };
    const nlohmann::json config = {{"Image", image_},
                                   {"Cmd", {"echo", "ok"}},
                                   {"Labels", {{"tasker", "1"}, {"tasker.agent", "bench-floor"}}},
                                   {"HostConfig", {{"NetworkMode", "none"}}}};
    auto created = call("POST", "/containers/create", json_util::dump(config));
    if (!created || created->status != 201) return false;
    const std::string id = nlohmann::json::parse(created->body)["Id"];
    auto started = call("POST", "/containers/" + id + "/start");
    auto waited = call("POST", "/containers/" + id + "/wait");
    auto logs = call("GET", "/containers/" + id + "/logs?stdout=1&stderr=1");
    auto removed = call("DELETE", "/containers/" + id + "?force=1");
    return started && started->status == 204 && waited && waited->status == 200 && logs &&
           logs->body.find("ok") != std::string::npos && removed && removed->status == 204;
  }

 private:
  docker::Endpoint endpoint_;
  std::string prefix_;
  std::string image_;
  std::vector<std::unique_ptr<http::CurlTransport>> transports_;
};

void report(const char* what, int workers, int n, const Measurement& m, double floor_rate) {
  const double rate = n / m.seconds;
  std::printf("%-28s %d-way  %6.2f s  %5.2f containers/s  x%.2f of floor  cpu %.2f ms/task%s\n",
              what, workers, m.seconds, rate, floor_rate > 0 ? rate / floor_rate : 1.0,
              m.cpu_ms_per_task, m.failures ? "  FAILURES" : "");
  if (m.failures) std::printf("  %d of %d failed\n", m.failures, n);
}

}  // namespace

// `floor N WORKERS [IMAGE]`: the floor alone, after a short warm-up; prints the seconds of N.
int floor_only(const docker::Endpoint& endpoint, const std::string& version, int n, int workers,
               const std::string& image) {
  Floor floor(endpoint, version, image, workers);
  const auto floor_one = [&](int w, int) { return floor.run(w); };
  measure(workers, workers, floor_one);
  const Measurement m = measure(n, workers, floor_one);
  std::printf("%.3f\n", m.seconds);
  return m.failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  const bool only_floor = argc > 3 && std::string(argv[1]) == "floor";
  if (only_floor) {
    argv += 1;
    argc -= 1;
  }
  const int n = argc > 1 ? std::atoi(argv[1]) : 40;
  const char* env_image = std::getenv("TASKER_TEST_IMAGE");
  const int image_arg = only_floor ? 3 : 2;
  const std::string image = argc > image_arg ? argv[image_arg]
                            : env_image      ? env_image
                                             : "busybox:latest";
  auto endpoint = docker::endpoint_from_environment();
  if (!endpoint) {
    std::fprintf(stderr, "%s\n", endpoint.error().message.c_str());
    return 2;
  }
  docker::DockerClient client(*endpoint);
  auto version = client.api_version();
  if (!version) {
    std::fprintf(stderr, "%s\n", version.error().message.c_str());
    return 1;
  }
  if (only_floor) return floor_only(*endpoint, *version, n, std::atoi(argv[2]), image);
  std::printf("daemon %s, API %s, image %s, N=%d\n", endpoint->address.c_str(), version->c_str(),
              image.c_str(), n);

  // The machine may be shared and its load drift: the modes take turns in rounds, so each sees
  // the same conditions, and their times are summed per mode.
  constexpr int kRounds = 3;
  for (const int workers : {1, 4}) {
    Floor floor(*endpoint, *version, image, workers);
    docker::DockerRuntime runtime(client);
    Task task;
    task.image = image;
    task.argv = {"echo", "ok"};
    task.network = "none";
    const auto floor_one = [&](int w, int) { return floor.run(w); };
    const auto runtime_one = [&](int, int i) {
      Task t = task;
      t.id = "bench-" + std::to_string(i);
      auto outcome = runtime.run(t, RunContext{"bench-runtime", 1}, {});
      return outcome.result.is_success && outcome.result.payload == "ok";
    };
    const std::string cli = "docker run --rm --network none " + image + " echo ok >/dev/null";
    const auto cli_one = [&](int, int) { return std::system(cli.c_str()) == 0; };
    measure(2, workers, floor_one);  // warm-up: connections, image layers in the page cache
    measure(2, workers, runtime_one);
    runtime.flush_removals();

    Measurement floor_m, runtime_m, cli_m;
    auto add = [](Measurement& total, const Measurement& round, int per_round) {
      total.seconds += round.seconds;
      total.cpu_ms_per_task += round.cpu_ms_per_task * per_round;
      total.failures += round.failures;
    };
    const int per_round = n / kRounds;
    for (int round = 0; round < kRounds; ++round) {
      add(floor_m, measure(per_round, workers, floor_one), per_round);
      add(cli_m, measure(per_round, workers, cli_one), per_round);
      // Removals still pending at the end of a round count against the runtime's time.
      const auto started = Clock::now();
      const double cpu_before = cpu_seconds();
      Measurement m = measure(per_round, workers, runtime_one);
      runtime.flush_removals();
      m.seconds = std::chrono::duration<double>(Clock::now() - started).count();
      m.cpu_ms_per_task = (cpu_seconds() - cpu_before) * 1000.0 / per_round;
      add(runtime_m, m, per_round);
    }
    const int total = per_round * kRounds;
    for (Measurement* m : {&floor_m, &runtime_m, &cli_m}) m->cpu_ms_per_task /= total;
    const double floor_rate = total / floor_m.seconds;
    report("floor (bare API loop)", workers, total, floor_m, 0);
    report("runtime (incl. removals)", workers, total, runtime_m, floor_rate);
    report("docker run --rm (CLI)", workers, total, cli_m, floor_rate);
  }
  return 0;
}
