#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aws/environment.h"
#include "tasker/error.h"

namespace tasker::aws {

/// The configured region, in the AWS SDKs' order: AWS_REGION, AWS_DEFAULT_REGION, then the
/// profile's `region` in the config file; nullopt when none is set.
std::optional<std::string> configured_region(const Environment& environment);

/// Checks a region name: lower-case letters, digits and dashes (`eu-west-1`).
Status validate_region(std::string_view region);

/// The SQS endpoint set by AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL, without a trailing slash;
/// nullopt when neither is set. The error names the variable whose value is not an http(s) URL.
Expected<std::optional<std::string>> configured_sqs_endpoint(const Environment& environment);

/// AWS's own SQS endpoint for a region: https://sqs.REGION.amazonaws.com (.com.cn in China).
std::string default_sqs_endpoint(std::string_view region);

}  // namespace tasker::aws
