#include "queue/sqs/sqs_broker.h"

#include <fmt/format.h>

#include "aws/region.h"
#include "queue/queue_rules.h"
#include "queue/sqs/sqs_queue.h"
#include "util/log.h"

namespace tasker::sqs {
namespace {

bool is_url(std::string_view text) {
  return text.starts_with("https://") || text.starts_with("http://");
}

}  // namespace

Expected<std::string> SqsBroker::queue_url(const std::string& name_or_url) {
  if (is_url(name_or_url)) return name_or_url;
  TASKER_TRY(validate_queue_name(name_or_url));
  auto answer = client_->call("GetQueueUrl", {{"QueueName", name_or_url}},
                              fmt::format("queue {}", name_or_url));
  if (!answer) {
    Error error = answer.error();
    if (error.kind == ErrorKind::kNotFound) {
      error.message += fmt::format("; create it with `tasker queue create {}`", name_or_url);
    }
    return error;
  }
  auto url = answer->find("QueueUrl");
  if (url == answer->end() || !url->is_string()) {
    return Error::internal(fmt::format("SQS GetQueueUrl for queue {} at {}: no QueueUrl in the answer",
                                       name_or_url, client_->endpoint()));
  }
  return url->get<std::string>();
}

Expected<std::string> SqsBroker::create_one(const std::string& name,
                                            const nlohmann::json& attributes) {
  nlohmann::json request = {{"QueueName", name}};
  if (!attributes.empty()) request["Attributes"] = attributes;
  auto answer = client_->call("CreateQueue", request, fmt::format("queue {}", name));
  if (!answer) {
    // SQS refuses to create a queue that exists with other attributes; the contract is to leave
    // an existing queue as it is.
    if (answer.error().message.find("QueueAlreadyExists") != std::string::npos ||
        answer.error().message.find("QueueNameExists") != std::string::npos) {
      log::info("SQS queue {} exists with other attributes; left as it is", name);
      return queue_url(name);
    }
    return answer.error();
  }
  auto url = answer->find("QueueUrl");
  if (url == answer->end() || !url->is_string()) {
    return Error::internal(fmt::format("SQS CreateQueue for queue {} at {}: no QueueUrl in the answer",
                                       name, client_->endpoint()));
  }
  return url->get<std::string>();
}

Status SqsBroker::create_queue(const std::string& name, const QueueOptions& options) {
  TASKER_TRY(validate_queue_name(name));
  TASKER_TRY(validate_visibility(options.visibility_timeout));
  nlohmann::json attributes = {
      {"VisibilityTimeout", std::to_string(options.visibility_timeout.count())}};
  if (name.ends_with(".fifo")) attributes["FifoQueue"] = "true";
  if (options.dead_letter_queue) {
    TASKER_TRY(validate_queue_name(*options.dead_letter_queue));
    TASKER_TRY(validate_max_receive_count(options.max_receive_count));
    nlohmann::json dead_letter_attributes = nlohmann::json::object();
    if (options.dead_letter_queue->ends_with(".fifo")) dead_letter_attributes["FifoQueue"] = "true";
    auto dead_letter_url = create_one(*options.dead_letter_queue, dead_letter_attributes);
    if (!dead_letter_url) return dead_letter_url.error();
    auto answer = client_->call("GetQueueAttributes",
                                {{"QueueUrl", *dead_letter_url}, {"AttributeNames", {"QueueArn"}}},
                                fmt::format("queue {}", *options.dead_letter_queue));
    if (!answer) return answer.error();
    const std::string arn =
        answer->value("Attributes", nlohmann::json::object()).value("QueueArn", std::string());
    if (arn.empty()) {
      return Error::internal(fmt::format("SQS GetQueueAttributes for queue {}: no QueueArn in the answer",
                                         *options.dead_letter_queue));
    }
    attributes["RedrivePolicy"] =
        nlohmann::json{{"deadLetterTargetArn", arn},
                       {"maxReceiveCount", std::to_string(options.max_receive_count)}}
            .dump();
  }
  auto url = create_one(name, attributes);
  if (!url) return url.error();
  return Status::success();
}

Expected<std::unique_ptr<Queue>> SqsBroker::open_queue(const std::string& name_or_url) {
  auto url = queue_url(name_or_url);
  if (!url) return url.error();
  auto queue = std::make_unique<SqsQueue>(client_, *url);
  // A URL is taken on trust by queue_url(); check here that it names a queue, as a name does.
  if (is_url(name_or_url)) {
    auto depth = queue->depth();
    if (!depth) return depth.error();
  }
  return std::unique_ptr<Queue>(std::move(queue));
}

Status SqsBroker::delete_queue(const std::string& name_or_url) {
  auto url = queue_url(name_or_url);
  if (!url) return url.error();
  auto answer = client_->call("DeleteQueue", {{"QueueUrl", *url}},
                              fmt::format("queue {}", queue_name_of_url(*url)));
  if (!answer) return answer.error();
  return Status::success();
}

Status SqsBroker::purge_queue(const std::string& name_or_url) {
  auto url = queue_url(name_or_url);
  if (!url) return url.error();
  auto answer = client_->call("PurgeQueue", {{"QueueUrl", *url}},
                              fmt::format("queue {}", queue_name_of_url(*url)));
  if (!answer) return answer.error();
  return Status::success();
}

Expected<SqsClientConfig> sqs_config_from_environment(const BrokerAddress& address,
                                                      const aws::Environment& environment) {
  auto configured_endpoint = aws::configured_sqs_endpoint(environment);
  if (!configured_endpoint) return configured_endpoint.error();
  const std::optional<std::string> configured_region = aws::configured_region(environment);

  SqsClientConfig config;
  if (*configured_endpoint) {
    config.endpoint = **configured_endpoint;
    config.region = configured_region.value_or(address.region.value_or("us-east-1"));
  } else if (address.endpoint) {
    config.endpoint = *address.endpoint;
    config.region = address.region.value_or(configured_region.value_or("us-east-1"));
  } else {
    if (!configured_region) {
      return Error::invalid(
          "no AWS region for SQS: set AWS_REGION (or AWS_DEFAULT_REGION, or region in "
          "~/.aws/config), or give a full queue URL");
    }
    config.region = *configured_region;
    TASKER_TRY(aws::validate_region(config.region));
    config.endpoint = aws::default_sqs_endpoint(config.region);
  }
  TASKER_TRY(aws::validate_region(config.region));
  config.credentials = std::make_shared<aws::DefaultCredentialsChain>(
      environment, std::make_unique<http::CurlTransport>(http::CurlTransport::Options{}),
      aws::Clock::real());
  return config;
}

Expected<std::unique_ptr<Broker>> open_sqs_broker(const BrokerAddress& address) {
  auto config = sqs_config_from_environment(address, aws::Environment::system());
  if (!config) return config.error();
  // Credentials are looked up now, so a machine without any fails at once with the reasons.
  auto credentials = config->credentials->get();
  if (!credentials) return credentials.error();
  return std::unique_ptr<Broker>(
      std::make_unique<SqsBroker>(std::make_shared<SqsClient>(std::move(*config))));
}

}  // namespace tasker::sqs
