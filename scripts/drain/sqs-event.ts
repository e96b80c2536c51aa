import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs'
import type { SQSMessageAttribute, SQSRecord, SQSRecordAttributes } from 'aws-lambda'

/**
 * The record Lambda's SQS event source hands a function for one received message
 * (the shape of @types/aws-lambda SQSRecord and AWS's documented example event):
 * the four system attributes always, the others (AWSTraceHeader, MessageGroupId...)
 * only when the message has them; message attributes in camelCase with both list
 * fields present and binary values base64-encoded.
 */
export function toSqsRecord(
  message: Message,
  source: { queueArn: string; region: string },
): SQSRecord {
  const { MessageId, ReceiptHandle, Body, MD5OfBody } = message
  if (!MessageId || !ReceiptHandle || Body === undefined || !MD5OfBody)
    throw new Error(`SQS returned an incomplete message from ${source.queueArn}: ${MessageId}`)
  const record: SQSRecord = {
    messageId: MessageId,
    receiptHandle: ReceiptHandle,
    body: Body,
    attributes: recordAttributes(message, source.queueArn),
    messageAttributes: messageAttributes(message.MessageAttributes),
    md5OfBody: MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  }
  // Only a message with attributes has their digest; Lambda passes it on then.
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes
  return record
}

const requiredAttributes = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
] as const
const optionalAttributes = [
  'AWSTraceHeader',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'DeadLetterQueueSourceArn',
] as const

function recordAttributes(message: Message, queueArn: string): SQSRecordAttributes {
  const received = message.Attributes ?? {}
  const attributes: Record<string, string> = {}
  for (const name of requiredAttributes) {
    const value = received[name]
    if (value === undefined)
      throw new Error(`SQS returned message ${message.MessageId} of ${queueArn} without ${name}`)
    attributes[name] = value
  }
  for (const name of optionalAttributes) {
    const value = received[name]
    if (value !== undefined) attributes[name] = value
  }
  return attributes as unknown as SQSRecordAttributes
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

function messageAttributes(
  received: Record<string, MessageAttributeValue> | undefined,
): Record<string, SQSMessageAttribute> {
  const attributes: Record<string, SQSMessageAttribute> = {}
  for (const [name, value] of Object.entries(received ?? {})) {
    // Key order as in AWS's example event: the value, both lists (always present), the type.
    attributes[name] = {
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && { binaryValue: base64(value.BinaryValue) }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map(base64),
      dataType: value.DataType ?? 'String',
    }
  }
  return attributes
}
