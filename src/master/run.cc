#include "master/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "model/json_util.h"
#include "util/backoff.h"
#include "util/log.h"

namespace tasker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A result of another run is made visible again this soon, so its own master gets it quickly
// while this one does not spin on it.
constexpr std::chrono::seconds kForeignResultDelay{1};

// How long a part-filled batch waits for more tasks before it is sent.
constexpr milliseconds kSendLinger{5};

// How long the loop of a run that only submits waits between its looks at the clock.
constexpr milliseconds kSubmitOnlyPoll{200};

// How often progress asks the tasks queue how many tasks are running.
constexpr std::chrono::seconds kDepthInterval{2};

// The most missing ids a report lists (it counts them all).
constexpr std::size_t kMaxMissingListed = 1000;

milliseconds backoff(int attempt) { return capped_backoff(attempt, milliseconds(10000)); }

std::uint64_t id_hash(const std::string& id) { return std::hash<std::string>{}(id); }

// `digest` extended by a task as its JSON (FNV-1a, 64 bits): the same in every process and build,
// so a journal's digest of the tasks sent can be checked by the process that resumes.
std::uint64_t task_digest(std::uint64_t digest, const Task& task) {
  for (const char c : to_json(task) + "\n") {
    digest = (digest ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return digest;
}

// Whether an error receiving results ends the run: a full disk, a queue that is gone, credentials
// refused, a request refused as invalid need someone to act, so retrying would only hang. Network
// trouble and the endpoint's own failures are retried.
bool gives_up_receiving(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kNoSpace:
    case ErrorKind::kNotFound:
    case ErrorKind::kDenied:
    case ErrorKind::kInvalidInput:
      return true;
    default:
      return false;
  }
}

}  // namespace

Run::Run(Broker& broker, const MasterOptions& options, const std::atomic<bool>& stop_requested,
         const ResultHandler& on_result)
    : broker_(broker),
      options_(options),
      stop_requested_(stop_requested),
      on_result_(on_result),
      channel_(std::make_shared<SupplyChannel>()) {}

Run::~Run() {
  if (submitter_.joinable()) stop_submitting();
  leave_supply();
}

Status Run::open() {
  if (!options_.submit_only && options_.tasks_queue == options_.results_queue) {
    return Error::invalid("the tasks queue and the results queue are both '" + options_.tasks_queue +
                          "': the master would take its own tasks for results and delete them; "
                          "give the results another queue");
  }
  TASKER_TRY(open_queues());
  run_id_ = options_.run_id.empty() ? new_run_id() : options_.run_id;
  if (options_.state_file) TASKER_TRY(open_journal());
  MutexLock lock(mu_);
  replayed_ = recovered_.submitted == 0;
  return Status::success();
}

Status Run::open_queues() {
  auto tasks = broker_.open_queue(options_.tasks_queue);
  if (!tasks) return tasks.error();
  tasks_ = std::move(*tasks);
  if (options_.submit_only) return Status::success();
  auto results = broker_.open_queue(options_.results_queue);
  if (!results) return results.error();
  results_ = std::move(*results);
  return Status::success();
}

Status Run::open_journal() {
  const Journal::Identity identity{options_.run_id, options_.tasks_queue, options_.results_queue,
                                   options_.input, options_.broker};
  auto opened = Journal::open(
      *options_.state_file, identity, run_id_,
      [this](const TaskResult& result) { replay(result); }, recovered_);
  if (!opened) return opened.error();
  journal_ = std::move(*opened);
  run_id_ = recovered_.run_id;
  if (recovered_.submitted > 0) {
    log::warn("resuming run {}: {} tasks submitted before, {} results already in", run_id_,
              recovered_.submitted, answered_.size());
  }
  return Status::success();
}

// A result the journal holds: delivered again (or only counted, without replay), once per task id.
void Run::replay(const TaskResult& result) {
  if (!answered_.insert(id_hash(result.id)).second) return;
  if (options_.replay) {
    deliver(result);
  } else {
    (result.is_success ? report_.succeeded : report_.failed)++;
  }
}

void Run::start(const Supply& supply) {
  supplier_ = std::thread(&SupplyChannel::fill, channel_, supply);
  submitter_ = std::thread(&Run::submit, this);
}

// The submitter thread's one job: the supply's tasks into the send pipeline, then the end of the
// supply said to the receiving side.
void Run::submit() {
  pipeline_.emplace(
      calls_in_flight(*tasks_), recovered_.submitted,
      [this](const std::vector<Task>& batch) { return send_batch(batch); },
      [this](std::uint64_t sent) { return record_sent(sent); });
  batched_ = recovered_.submitted;
  while (submit_next()) {
  }
  flush();
  pipeline_->finish();
  end_submitting();
}

// Takes the supply's next entry and deals with it. False when submitting ends: the supply ended,
// or the run stopped or failed.
bool Run::submit_next() {
  bool ended = false;
  std::optional<Expected<Task>> entry = channel_->take(kSendLinger, ended);
  // Quiet for a moment: send the part-filled batch, unless the run has stopped, which must not
  // wait for a supply blocked in a read.
  if (!entry) return !ended && !stopped() && flush();
  if (!*entry) {
    count_invalid(entry->error());
    return true;
  }
  ++supplied_;
  digest_ = task_digest(digest_, entry->value());
  if (supplied_ <= recovered_.submitted) {
    expect_earlier(std::move(entry->value()));
    return supplied_ < recovered_.submitted || check_earlier_input();
  }
  return submit_task(std::move(entry->value()));
}

// A supply entry that is not a task (bad input): reported and counted, and the run goes on.
void Run::count_invalid(const Error& error) {
  log::error("{}", error.message);
  MutexLock lock(mu_);
  ++invalid_;
}

// A task an earlier process of this run sent: not sent again, but waited for unless its result is
// in already (after a cut journal, sent again: its result's record may be what was cut). Once the
// last of them is read again, a result can be told from a duplicate.
void Run::expect_earlier(Task task) {
  MutexLock lock(mu_);
  if (!answered_.count(id_hash(task.id))) {
    outstanding_.insert(task.id);
    ++submitted_;
    if (recovered_.repaired) lost_.push_back(std::move(task));
  }
}

// The last task an earlier process sent has been read again: the input must be the one it read
// (the journal's digest of those tasks), else the run ends before anything is sent or mistaken.
// False when it ends.
bool Run::check_earlier_input() {
  if (recovered_.digest && *recovered_.digest != digest_) {
    fail(Error::invalid(fmt::format(
        "the input is not the one run {} read: its first {} tasks differ from what that run sent; "
        "resume it with the same input, discard it (tasker run --fresh, or delete the state file), "
        "or use another --state-dir / --state",
        run_id_, recovered_.submitted)));
    return false;
  }
  send_lost();
  {
    MutexLock lock(mu_);
    replayed_ = true;
  }
  changed_.notify_all();
  return true;
}

// Sends again the earlier tasks whose results the journal may have lost; a result still queued
// and the new one are reduced once, the other dropped as a duplicate.
void Run::send_lost() {
  if (lost_.empty()) return;
  log::warn("sending again {} task(s) of run {} without a result in the journal", lost_.size(),
            run_id_);
  for (std::size_t start = 0; start < lost_.size(); start += Queue::kMaxBatch) {
    std::vector<Task> batch(lost_.begin() + static_cast<std::ptrdiff_t>(start),
                            lost_.begin() + static_cast<std::ptrdiff_t>(
                                                std::min(lost_.size(), start + Queue::kMaxBatch)));
    for (Task& task : batch) {
      task.run_id = run_id_;
      if (!options_.submit_only) task.reply_queue = options_.results_queue;
    }
    if (!send_batch(batch)) break;
  }
  lost_.clear();
}

// Marks a task as this run's, waits for room in the window, and batches it; a full batch goes to
// the pipeline. False when submitting ends.
bool Run::submit_task(Task task) {
  task.run_id = run_id_;
  if (!options_.submit_only) task.reply_queue = options_.results_queue;
  switch (admit(task)) {
    case Admission::kStopped:
      return false;
    case Admission::kRepeated:
      return true;
    case Admission::kAdmitted:
      break;
  }
  batch_.push_back(std::move(task));
  batched_ = supplied_;
  batched_digest_ = digest_;
  return batch_.size() < Queue::kMaxBatch || flush();
}

// Waits for room in the window, then counts the task as submitted and awaited; a task whose id
// repeats one of this run's is refused, also when the run only submits (validate, submit --wait
// and run refuse it too, so all four agree on what a run's tasks are).
Run::Admission Run::admit(const Task& task) {
  bool open = false;
  {
    MutexLock lock(mu_);
    open = window_open();
  }
  // Send what is batched before waiting for room: those tasks' results are what makes room.
  if (!open && !flush()) return Admission::kStopped;
  MutexLock lock(mu_);
  while (!window_open()) changed_.wait(mu_);
  if (stop_) return Admission::kStopped;
  if (!outstanding_.insert(task.id).second) {
    log::error("task {}: id repeats an earlier task of this run; not submitted", task.id);
    ++invalid_;
    return Admission::kRepeated;
  }
  ++submitted_;
  return Admission::kAdmitted;
}

// Whether another task may go out: fewer than the window unanswered (a run that does not wait for
// results has no window), or the run has stopped, which ends the wait.
bool Run::window_open() const {
  return stop_ || options_.submit_only || outstanding_.size() < options_.window;
}

// Whether the receiving side has ended the run.
bool Run::stopped() {
  MutexLock lock(mu_);
  return stop_;
}

// Hands the batch, if any, to the pipeline; false when it has failed.
bool Run::flush() {
  if (batch_.empty()) return true;
  {
    MutexLock lock(mu_);
    digests_[batched_] = batched_digest_;
  }
  return pipeline_->dispatch(std::exchange(batch_, {}), batched_);
}

// Says the supply is done, also when it was shorter than what an earlier process sent.
void Run::end_submitting() {
  if (supplied_ < recovered_.submitted && recovered_.digest && !options_.collect && !stopped()) {
    fail(Error::invalid(fmt::format(
        "the input is not the one run {} read: it has {} tasks, and that run sent {}; resume it "
        "with the same input, discard it (tasker run --fresh, or delete the state file), or use "
        "another --state-dir / --state",
        run_id_, supplied_, recovered_.submitted)));
  }
  {
    MutexLock lock(mu_);
    supply_done_ = true;
    replayed_ = true;
  }
  changed_.notify_all();
}

// The pipeline's Send: one batch until every entry is in the queue or refused for good, refused
// tasks answered here. A batch call carries at most kMaxBodyBytes in all (attributes counted), so
// large tasks go in smaller calls, and a task over the limit itself (the run id or signature added
// to a task at the limit) is answered without a call. False when the run must stop (a permanent
// error, or a stop request).
bool Run::send_batch(const std::vector<Task>& batch) {
  {
    // A run that has ended sends no more of what was waiting; a resume sends it.
    MutexLock lock(mu_);
    if (stop_) return false;
  }
  const std::vector<OutgoingMessage> messages = messages_of(batch);
  std::vector<std::size_t> call;
  std::size_t call_bytes = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::size_t size = message_size(messages[i]);
    if (size > kMaxBodyBytes) {
      refuse(batch[i], fmt::format("the task is {} bytes as sent (with its run id{}), over the {} "
                                   "byte limit of a message",
                                   size, options_.signing_key ? " and signature" : "", kMaxBodyBytes));
      continue;
    }
    if (call_bytes + size > kMaxBodyBytes) {
      if (!send_call(batch, messages, std::exchange(call, {}))) return false;
      call_bytes = 0;
    }
    call.push_back(i);
    call_bytes += size;
  }
  return call.empty() || send_call(batch, messages, std::move(call));
}

// The batch's messages: each task's JSON, with a signing key the HMAC of that exact body as an
// attribute.
std::vector<OutgoingMessage> Run::messages_of(const std::vector<Task>& batch) const {
  std::vector<OutgoingMessage> messages;
  for (const auto& task : batch) {
    std::string body = to_json(task);
    messages.push_back(options_.signing_key ? options_.signing_key->signed_message(std::move(body))
                                            : OutgoingMessage(std::move(body)));
  }
  return messages;
}

// Sends the entries `pending` of a batch in one call, again and again, until each is in the queue
// or refused for good. False when the run must stop.
bool Run::send_call(const std::vector<Task>& batch, const std::vector<OutgoingMessage>& messages,
                    std::vector<std::size_t> pending) {
  for (int attempt = 0; !pending.empty(); ++attempt) {
    std::vector<OutgoingMessage> to_send;
    for (auto i : pending) to_send.push_back(messages[i]);
    auto sent = tasks_->send(to_send);
    if (sent) {
      pending = to_retry(batch, pending, *sent);
    } else if (!sent.error().transient()) {
      fail(sent.error());
      return false;
    } else {
      log::warn("sending tasks: {} (retrying)", sent.error().message);
    }
    if (!pending.empty() && !back_off(attempt)) return false;
  }
  return true;
}

// The entries of a send call to try again: those that failed for a passing reason. One the queue
// refuses for good (too large, characters SQS refuses) is answered here so the run still ends.
std::vector<std::size_t> Run::to_retry(const std::vector<Task>& batch,
                                       const std::vector<std::size_t>& pending,
                                       const std::vector<Status>& statuses) {
  std::vector<std::size_t> again;
  for (std::size_t k = 0; k < pending.size(); ++k) {
    const Status& status = statuses[k];
    if (status.ok()) continue;
    if (status.error().transient()) {
      again.push_back(pending[k]);
    } else {
      refuse(batch[pending[k]], status.error().message);
    }
  }
  return again;
}

// A task the queue refuses for good: its failed result, for the receiving side to answer.
void Run::refuse(const Task& task, const std::string& why) {
  MutexLock lock(mu_);
  unsendable_.push_back(TaskResult::failure(task.id, "submit", "not submitted: " + why));
}

// Waits out the backoff before a send is retried; false when the run stopped meanwhile.
bool Run::back_off(int attempt) {
  const auto until = Clock::now() + backoff(attempt);
  MutexLock lock(mu_);
  while (!stop_ && changed_.wait_until(mu_, until)) {
  }
  return !stop_;
}

// The pipeline's Record: the count of supplied tasks all sent, to the journal.
bool Run::record_sent(std::uint64_t sent) {
  if (!journal_) return true;
  std::uint64_t digest = 0;
  {
    MutexLock lock(mu_);
    auto it = digests_.find(sent);
    if (it != digests_.end()) digest = it->second;
    digests_.erase(digests_.begin(), digests_.upper_bound(sent));
  }
  auto status = journal_->record_submitted(sent, digest);
  if (status) return true;
  fail(status.error());
  return false;
}

// Submitting failed for good: the receiving side ends the run with this error.
void Run::fail(const Error& error) {
  MutexLock lock(mu_);
  fatal_ = error;
}

void Run::receive() {
  begin_receiving();
  while (receive_once()) {
  }
  drain_helpers();
}

void Run::begin_receiving() {
  if (options_.progress == MasterOptions::Progress::kBar) progress_.emplace(Progress::Style::kBar);
  if (options_.progress == MasterOptions::Progress::kJsonLines) {
    progress_.emplace(Progress::Style::kJsonLines);
  }
  if (options_.timeout.count() > 0) deadline_ = Clock::now() + options_.timeout;
  // Deletes, and extra receives while results come in full batches, on helper threads where the
  // results queue is worth several calls at once (SQS).
  if (results_) helpers_.emplace(*results_, calls_in_flight(*results_) - 1);
}

// One turn of the receive loop; false when the run ends.
bool Run::receive_once() {
  if (!answer_unsendable() || run_is_over()) return false;
  if (options_.submit_only) {
    wait_while_submitting();
    return true;
  }
  show_progress();
  const milliseconds wait = next_wait();
  if (!earlier_tasks_read(wait)) return true;
  return receive_batch(wait);
}

// Answers the tasks the queue refused, journaled like any result so a resumed run does not wait
// for an answer that cannot come. False when the run must end (submitting failed, or the journal).
bool Run::answer_unsendable() {
  std::vector<TaskResult> refused;
  {
    MutexLock lock(mu_);
    if (fatal_) {
      failure_ = fatal_;
      return false;
    }
    refused.swap(unsendable_);
  }
  for (auto& result : refused) {
    result.run_id = run_id_;
    if (!answer(result)) return false;
  }
  return true;
}

// Whether the run is over: every task answered (or, submitting only, sent), the timeout, or a
// stop request; the report says which.
bool Run::run_is_over() {
  bool answered = false;
  {
    MutexLock lock(mu_);
    // Submitting only, the run is over once every task is sent or refused and every refusal has
    // been answered (a refusal made just before the supply ended is still to be answered).
    answered = supply_done_ && (options_.submit_only ? unsendable_.empty() : outstanding_.empty());
  }
  if (answered && (!options_.collect || collected_all())) return true;
  if (Clock::now() >= deadline_) {
    report_.timed_out = true;
    return true;
  }
  if (stop_requested_ || (options_.interrupt != nullptr && options_.interrupt->load())) {
    report_.interrupted = true;
    return true;
  }
  return false;
}

// A run that only submits has nothing to receive: it waits a moment for the supply to end.
void Run::wait_while_submitting() {
  const auto until = Clock::now() + kSubmitOnlyPoll;
  MutexLock lock(mu_);
  while (!supply_done_ && !fatal_ && changed_.wait_until(mu_, until)) {
  }
}

void Run::show_progress() {
  if (!progress_) return;
  if (Clock::now() - last_depth_ > kDepthInterval) {
    last_depth_ = Clock::now();
    if (auto depth = tasks_->depth()) running_ = depth->in_flight;
  }
  progress_->update(counts());
}

// The wait of the next receive: the poll wait, or what is left before the timeout.
milliseconds Run::next_wait() const {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
  return std::max(milliseconds(0), std::min<milliseconds>(options_.poll_wait, left));
}

// Whether the tasks an earlier process sent have been read again (their ids outstanding); until
// then a result cannot be told from a duplicate, so this waits up to `wait` and says no.
bool Run::earlier_tasks_read(milliseconds wait) {
  const auto until = Clock::now() + wait;
  MutexLock lock(mu_);
  if (replayed_) return true;
  while (!replayed_ && !fatal_ && changed_.wait_until(mu_, until)) {
  }
  return false;
}

// Receives a batch of results, one a helper took first or else the loop's own (long) poll, whose
// fullness says whether helpers should take more, and handles it. False when the run must end.
bool Run::receive_batch(milliseconds wait) {
  bool helpers_busy = false;
  std::optional<std::vector<Message>> taken = helpers_->take(wait, helpers_busy);
  if (!taken && helpers_busy) return true;  // still on their way: look at the clock and ask again
  Expected<std::vector<Message>> messages =
      taken ? Expected<std::vector<Message>>(std::move(*taken))
            : results_->receive(Queue::kMaxBatch, wait);
  if (!messages) return receive_failed(messages.error());
  receive_failures_ = 0;
  const std::uint64_t foreign_before = report_.foreign;
  const std::uint64_t handed_before = report_.succeeded + report_.failed + report_.duplicates;
  for (const auto& message : *messages) {
    if (!handle(message)) break;
  }
  // Helpers receive while batches come full of this run's results; other runs' results are
  // their masters' to take, and receiving more of them would only hide them longer.
  const bool foreign_seen = report_.foreign != foreign_before;
  const bool own_seen = report_.succeeded + report_.failed + report_.duplicates != handed_before;
  quiet_receives_ = own_seen ? 0 : quiet_receives_ + 1;
  if (own_seen) foreign_in_streak_.clear();
  if (!taken) {
    helpers_->set_backlog(messages->size() == Queue::kMaxBatch && !foreign_seen);
  } else if (foreign_seen) {
    helpers_->set_backlog(false);
  }
  delete_handled();
  return !failure_;
}

// Deletes the messages handled since the last call, once the journal records of their results
// are durable: a power loss then cannot lose a result the queue no longer holds.
void Run::delete_handled() {
  if (to_delete_.empty()) return;
  if (journal_) {
    if (auto synced = journal_->sync(); !synced) {
      failure_ = synced.error();
      to_delete_.clear();  // left in the queue, for a resumed run
      return;
    }
  }
  helpers_->delete_later(std::exchange(to_delete_, {}));
}

// A receive failed: the run ends when retrying cannot help until someone acts (a resume can);
// else it waits a little longer each time and goes on.
bool Run::receive_failed(const Error& error) {
  if (gives_up_receiving(error)) {
    failure_ = error;
    return false;
  }
  log::warn("receiving results: {} (retrying)", error.message);
  std::this_thread::sleep_for(backoff(receive_failures_++));
  return true;
}

// Takes one received message: verified, parsed, and either left for its own run's master,
// dropped as a duplicate, or answered (journaled, delivered) and deleted. False when the run must
// stop (the journal failed): the message is not deleted, it stays in the queue for a resumed run.
bool Run::handle(const Message& message) {
  std::optional<TaskResult> result = read_result(message);
  if (!result) {
    to_delete_.push_back(message.receipt);
    return true;
  }
  if (result->run_id && *result->run_id != run_id_) {
    ++report_.foreign;
    if (options_.collect) foreign_in_streak_.insert(message.message_id);
    helpers_->leave_later(message.receipt, kForeignResultDelay);
    return true;
  }
  if (!authentic(message)) {
    to_delete_.push_back(message.receipt);
    return true;
  }
  if (!awaited(result->id) && !never_handed(*result)) {
    drop_duplicate(*result);
    to_delete_.push_back(message.receipt);
    return true;
  }
  if (!answer(*result)) return false;
  to_delete_.push_back(message.receipt);
  return true;
}

// Whether a message of this run (or of no run) is signed with the run's key, when it has one: a
// forged result must not answer a task. An unsigned message is logged and dropped. Another run's
// result is never checked: only its run id is read, to leave it for its own master, which may
// have no key.
bool Run::authentic(const Message& message) {
  if (!options_.signing_key) return true;
  auto verified = options_.signing_key->verify(message);
  if (verified) return true;
  ++report_.unauthenticated;
  log::warn("results queue {}: message {} dropped, not a result of this run's agents ({}); "
            "deleting it",
            options_.results_queue, message.message_id, verified.error().message);
  return false;
}

// The result a message carries; nullopt (logged) for a message that is no result: it is deleted.
std::optional<TaskResult> Run::read_result(const Message& message) {
  auto result = parse_result(message.body);
  if (!result) {
    log::error("results queue {}: message {} is not a result ({}); deleting it",
               options_.results_queue, message.message_id, result.error().message);
    return std::nullopt;
  }
  return std::move(*result);
}

// A collecting run has all it can get: receives in a row brought none of its results, and the
// results queue holds nothing, visible or in flight, but other runs' results this run left there
// (a killed collector's come back after their visibility timeout, and are waited for).
bool Run::collected_all() {
  if (quiet_receives_ < kCollectQuietReceives) return false;
  auto depth = results_->depth();
  if (depth && depth->visible + depth->in_flight <= foreign_in_streak_.size()) return true;
  quiet_receives_ = 0;  // look again after more receives
  return false;
}

// A result of this run's id that nobody was handed, in a collecting run: not in the journal, not
// handed over by this process (a detached submit's results, collected later). It is handed over,
// never dropped.
bool Run::never_handed(const TaskResult& result) const {
  // Only a collecting run takes results of task ids it does not know; any other run knows every
  // task of its run (read again on a resume), and a result for another id is no answer of it.
  if (!options_.collect || !result.run_id || *result.run_id != run_id_) return false;
  const std::uint64_t hash = id_hash(result.id);
  return !answered_.count(hash) && !delivered_.count(hash);
}

// Whether a task of this run waits for a result with this id.
bool Run::awaited(const std::string& id) {
  MutexLock lock(mu_);
  return outstanding_.count(id) > 0;
}

void Run::drop_duplicate(const TaskResult& result) {
  ++report_.duplicates;
  log::info(
      "results queue {}: result for '{}' dropped: no task of this run is waiting for it "
      "(answered already, or never sent)",
      options_.results_queue, json_util::printable(result.id.substr(0, 80)));
}

// A task's first result: journaled, delivered, and only then its place in the window freed. False
// when the journal cannot be written: the run ends with that error.
bool Run::answer(const TaskResult& result) {
  if (journal_) {
    if (auto status = journal_->record_result(result); !status) {
      failure_ = status.error();
      return false;
    }
  }
  deliver(result);
  {
    MutexLock lock(mu_);
    outstanding_.erase(result.id);
  }
  changed_.notify_all();
  return true;
}

// Counts a result and hands it to the handler.
void Run::deliver(const TaskResult& result) {
  (result.is_success ? report_.succeeded : report_.failed)++;
  delivered_.insert(id_hash(result.id));
  on_result_(result);
}

// What helpers took after the loop's last look: duplicates, other runs' results, or (when the run
// timed out or was stopped) results still welcome. Dealt with as any, then deleted.
void Run::drain_helpers() {
  if (!helpers_) return;
  for (const auto& batch : helpers_->finish()) {
    for (const auto& message : batch) {
      if (failure_ || !handle(message)) break;
    }
  }
  delete_handled();
}

ProgressCounts Run::counts() {
  ProgressCounts counts;
  counts.done = report_.succeeded + report_.failed;
  counts.failed = report_.failed;
  counts.running = running_;
  MutexLock lock(mu_);
  counts.submitted = submitted_;
  counts.supply_done = supply_done_;
  return counts;
}

Expected<RunReport> Run::finish() {
  stop_submitting();
  leave_supply();
  if (progress_) progress_->finish(counts());
  return report();
}

// Stops the submitter, counting what was submitted and is still unanswered as it stops.
void Run::stop_submitting() {
  {
    MutexLock lock(mu_);
    stop_ = true;
    count_unanswered();
  }
  changed_.notify_all();
  if (submitter_.joinable()) submitter_.join();
}

void Run::count_unanswered() {
  report_.submitted = submitted_;
  report_.invalid = invalid_;
  report_.missing_count = outstanding_.size();
  for (const auto& id : outstanding_) {
    if (report_.missing.size() >= kMaxMissingListed) break;
    report_.missing.push_back(id);
  }
  std::sort(report_.missing.begin(), report_.missing.end());
}

// Stops the supply thread; one still blocked in a read is left behind rather than waited for.
void Run::leave_supply() {
  if (!supplier_.joinable()) return;
  if (channel_->abandon()) {
    supplier_.join();
  } else {
    supplier_.detach();
  }
}

// The run's report, or the error that ended it.
Expected<RunReport> Run::report() {
  if (!failure_) {
    MutexLock lock(mu_);
    if (fatal_) failure_ = fatal_;
  }
  if (failure_) return *failure_;
  report_.run_id = run_id_;
  if (options_.submit_only) {
    report_.missing_count = 0;
    report_.missing.clear();
  }
  return report_;
}

// Calls in flight on a queue: the option, or what the queue suggests.
std::size_t Run::calls_in_flight(const Queue& queue) const {
  return options_.calls_in_flight > 0 ? options_.calls_in_flight : queue.concurrent_calls();
}

}  // namespace tasker
