CREATE TABLE `accounts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `owner_type` varchar(16) NOT NULL,
  `owner_id` varchar(64) NOT NULL,
  `kind` varchar(16) NOT NULL,
  `balance` bigint(20) NOT NULL DEFAULT 0,
  `allow_negative` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `accounts_owner_kind` (`owner_type`,`owner_id`,`kind`),
  CONSTRAINT `accounts_no_overdraft` CHECK (`allow_negative` <> 0 or `balance` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `bonus_grants` (
  `user_id` varchar(64) NOT NULL,
  `listing_id` varchar(64) NOT NULL,
  `points` bigint(20) NOT NULL,
  `transfer_id` bigint(20) unsigned NOT NULL,
  `yandex_uid` varchar(128) NOT NULL,
  `granted_at` datetime(3) NOT NULL,
  PRIMARY KEY (`user_id`,`listing_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `bonus_listings` (
  `user_id` varchar(64) NOT NULL,
  `listing_id` varchar(64) NOT NULL,
  `status` varchar(16) NOT NULL,
  `failed` varchar(255) NOT NULL DEFAULT '',
  `content_at` bigint(20) DEFAULT NULL,
  `first_seen_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`user_id`,`listing_id`),
  KEY `bonus_listings_user_status` (`user_id`,`status`,`first_seen_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `bonus_state` (
  `user_id` varchar(64) NOT NULL,
  `state` varchar(16) NOT NULL,
  `listing_id` varchar(64) DEFAULT NULL,
  `grant_at` datetime(3) DEFAULT NULL,
  `hold_seq` int(11) NOT NULL DEFAULT 0,
  `yandex_uid` varchar(128) DEFAULT NULL,
  `last_grant_at` datetime(3) DEFAULT NULL,
  `points_granted` bigint(20) NOT NULL DEFAULT 0,
  `problems` varchar(255) NOT NULL DEFAULT '',
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`user_id`),
  KEY `bonus_state_state_user` (`state`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `candidate_completions` (
  `candidate_id` varchar(255) NOT NULL,
  `completed` int(11) NOT NULL DEFAULT 0,
  `reviewer_id` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`candidate_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `chat_events` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` varchar(64) NOT NULL,
  `room` varchar(64) NOT NULL,
  `type` varchar(32) NOT NULL,
  `at` datetime(3) NOT NULL,
  `data` mediumtext NOT NULL,
  `audience` text DEFAULT NULL,
  `outbox_id` bigint(20) unsigned DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `chat_events_event_id` (`event_id`),
  KEY `chat_events_room` (`room`,`id`),
  KEY `chat_events_outbox` (`outbox_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `clients` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `uuid` varchar(64) NOT NULL,
  `name` varchar(128) DEFAULT NULL,
  `account_id` bigint(20) unsigned NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `clients_uuid` (`uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `connections` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `type` varchar(16) NOT NULL,
  `entity_uuid` varchar(64) NOT NULL,
  `connection_uuid` varchar(64) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `connections_connection_uuid` (`connection_uuid`),
  KEY `connections_entity` (`entity_uuid`),
  KEY `connections_created` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `consumed_events` (
  `consumer` varchar(64) NOT NULL,
  `event_id` varchar(64) NOT NULL,
  `produced_at` varchar(64) NOT NULL,
  `taken_at` datetime(3) NOT NULL,
  PRIMARY KEY (`consumer`,`event_id`,`produced_at`),
  KEY `consumed_events_taken` (`taken_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `donations` (
  `id` varchar(36) NOT NULL,
  `room` varchar(64) NOT NULL,
  `sender_uuid` varchar(64) NOT NULL,
  `sender_account_id` bigint(20) unsigned NOT NULL,
  `room_account_id` bigint(20) unsigned NOT NULL,
  `sum` bigint(20) NOT NULL,
  `has_message` tinyint(1) NOT NULL DEFAULT 0,
  `message_text` text DEFAULT NULL,
  `message_public` tinyint(1) DEFAULT NULL,
  `message_id` bigint(20) unsigned DEFAULT NULL,
  `status` enum('pending','completed','rejected') NOT NULL DEFAULT 'pending',
  `reason` varchar(64) DEFAULT NULL,
  `transfer_id` bigint(20) unsigned DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `donations_room` (`room`,`created_at`),
  KEY `donations_sender` (`sender_uuid`,`created_at`),
  CONSTRAINT `donations_positive` CHECK (`sum` > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `donor_totals` (
  `room` varchar(64) NOT NULL,
  `client_uuid` varchar(64) NOT NULL,
  `total` bigint(20) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`room`,`client_uuid`),
  KEY `donor_totals_top` (`room`,`total` DESC,`client_uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `exercises` (
  `exercise_id` varchar(64) NOT NULL,
  `title` varchar(500) NOT NULL,
  `content` mediumtext NOT NULL,
  `author_id` varchar(64) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`exercise_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `feature_flags` (
  `name` varchar(128) NOT NULL,
  `value` varchar(1024) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `goals` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `room` varchar(64) NOT NULL,
  `name` varchar(128) NOT NULL,
  `sum` bigint(20) NOT NULL DEFAULT 0,
  `require_sum` bigint(20) NOT NULL,
  `reached_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `goals_room` (`room`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `hiring_attempts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `candidate_id` varchar(255) NOT NULL,
  `exercise_id` varchar(255) NOT NULL,
  `title` text NOT NULL,
  `knowledge_area` varchar(64) NOT NULL DEFAULT '',
  `outcome` enum('completed','failed') NOT NULL,
  `at` varchar(64) NOT NULL,
  `event_id` varchar(64) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `hiring_attempts_candidate` (`candidate_id`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `hiring_exercises` (
  `exercise_id` varchar(255) NOT NULL,
  `title` text NOT NULL,
  `content` mediumtext NOT NULL,
  `author_id` varchar(255) NOT NULL,
  `created_at` varchar(64) NOT NULL,
  `updated_at` varchar(64) DEFAULT NULL,
  `state_at_ms` bigint(20) NOT NULL,
  PRIMARY KEY (`exercise_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `hiring_reviewers` (
  `candidate_id` varchar(255) NOT NULL,
  `reviewer_id` varchar(255) NOT NULL,
  `assigned_at` varchar(64) NOT NULL,
  PRIMARY KEY (`candidate_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `hiring_users` (
  `user_id` varchar(64) NOT NULL,
  `role` varchar(16) NOT NULL,
  `name` varchar(255) DEFAULT NULL,
  `email` varchar(255) DEFAULT NULL,
  `first_seen_at` datetime(3) NOT NULL,
  PRIMARY KEY (`user_id`),
  KEY `hiring_users_role` (`role`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `idempotency_keys` (
  `caller` varchar(64) NOT NULL,
  `scope` varchar(64) NOT NULL,
  `idem_key` varchar(128) NOT NULL,
  `request_hash` varchar(64) NOT NULL,
  `status_code` int(11) DEFAULT NULL,
  `response` mediumtext DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`caller`,`scope`,`idem_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `ledger_entries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `transfer_id` bigint(20) unsigned NOT NULL,
  `account_id` bigint(20) unsigned NOT NULL,
  `amount` bigint(20) NOT NULL,
  `balance_after` bigint(20) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ledger_entries_account_id` (`account_id`,`id`),
  KEY `ledger_entries_transfer_id` (`transfer_id`),
  CONSTRAINT `ledger_entries_account_fk` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`),
  CONSTRAINT `ledger_entries_transfer_fk` FOREIGN KEY (`transfer_id`) REFERENCES `transfers` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `messages` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` varchar(64) NOT NULL,
  `room` varchar(64) NOT NULL,
  `sender_uuid` varchar(64) NOT NULL,
  `sender_type` varchar(16) NOT NULL,
  `is_public` tinyint(1) NOT NULL,
  `value` text NOT NULL,
  `donation_id` varchar(36) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `messages_event_id` (`event_id`),
  KEY `messages_room` (`room`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `notifications` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `user_id` varchar(64) NOT NULL,
  `kind` varchar(64) NOT NULL,
  `title` varchar(255) NOT NULL,
  `body` varchar(1000) NOT NULL,
  `mail_subject` varchar(255) NOT NULL,
  `mail_body` text NOT NULL,
  `data` text NOT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `notifications_user_id` (`user_id`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `notification_deliveries` (
  `notification_id` bigint(20) unsigned NOT NULL,
  `channel` varchar(32) NOT NULL,
  `attempts` int(11) NOT NULL,
  `delivered_at` datetime(3) NOT NULL,
  PRIMARY KEY (`notification_id`,`channel`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `outbox` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `queue` varchar(128) NOT NULL,
  `job_name` varchar(128) NOT NULL,
  `payload_version` int(11) NOT NULL DEFAULT 1,
  `payload` longtext NOT NULL,
  `event_id` varchar(64) DEFAULT NULL,
  `event_name` varchar(128) DEFAULT NULL,
  `status` enum('pending','relayed','done','dead') NOT NULL DEFAULT 'pending',
  `available_at` datetime(3) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `relayed_at` datetime(3) DEFAULT NULL,
  `done_at` datetime(3) DEFAULT NULL,
  `relay_count` int(11) NOT NULL DEFAULT 0,
  `attempts` int(11) NOT NULL DEFAULT 0,
  `last_error` text DEFAULT NULL,
  `dead_at` datetime(3) DEFAULT NULL,
  `request_id` varchar(128) DEFAULT NULL,
  `traceparent` varchar(55) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `outbox_status_queue_id` (`status`,`queue`,`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_assignees` (
  `slot` int(10) unsigned NOT NULL,
  `user_id` varchar(36) NOT NULL,
  PRIMARY KEY (`slot`),
  UNIQUE KEY `popug_assignees_user_id_unique` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_assignee_count` (
  `id` tinyint(3) unsigned NOT NULL,
  `n` int(10) unsigned NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_days` (
  `day` date NOT NULL,
  `status` varchar(8) NOT NULL,
  `fees` bigint(20) NOT NULL DEFAULT 0,
  `rewards` bigint(20) NOT NULL DEFAULT 0,
  `payouts` bigint(20) NOT NULL DEFAULT 0,
  `employees_paid` int(11) NOT NULL DEFAULT 0,
  `red_delta` int(11) NOT NULL DEFAULT 0,
  `in_red_at_close` int(11) DEFAULT NULL,
  `top_task_id` varchar(36) DEFAULT NULL,
  `top_reward` bigint(20) DEFAULT NULL,
  `payout_cursor` bigint(20) NOT NULL DEFAULT 0,
  `payout_in_red` int(11) NOT NULL DEFAULT 0,
  `closed_at` datetime(3) DEFAULT NULL,
  `done_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`day`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_entries` (
  `entry_id` varchar(64) NOT NULL,
  `user_id` varchar(36) NOT NULL,
  `day` date NOT NULL,
  `kind` varchar(8) NOT NULL,
  `task_id` varchar(36) DEFAULT NULL,
  `amount` bigint(20) NOT NULL,
  `description` varchar(255) NOT NULL,
  `at` datetime(3) NOT NULL,
  `transfer_id` bigint(20) unsigned NOT NULL,
  PRIMARY KEY (`entry_id`),
  KEY `popug_entries_user_day` (`user_id`,`day`,`at`),
  KEY `popug_entries_day_user` (`day`,`user_id`,`amount`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_payment_users` (
  `user_id` varchar(36) NOT NULL,
  `role` varchar(16) NOT NULL,
  `name` varchar(128) DEFAULT NULL,
  `email` varchar(254) DEFAULT NULL,
  `version` int(11) NOT NULL,
  PRIMARY KEY (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_report_mails` (
  `entry_id` varchar(64) NOT NULL,
  `batch_key` bigint(20) unsigned NOT NULL,
  `user_id` varchar(36) NOT NULL,
  `day` date NOT NULL,
  `amount` bigint(20) NOT NULL,
  `queued_at` datetime(3) NOT NULL,
  `sent_at` datetime(3) DEFAULT NULL,
  `given_up_at` datetime(3) DEFAULT NULL,
  `last_error` varchar(500) DEFAULT NULL,
  PRIMARY KEY (`entry_id`),
  KEY `popug_report_mails_batch_key_index` (`batch_key`),
  KEY `popug_report_mails_sent_at_given_up_at_queued_at_index` (`sent_at`,`given_up_at`,`queued_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_reshuffles` (
  `reshuffle_id` varchar(36) NOT NULL,
  `running` tinyint(4) DEFAULT NULL,
  `status` varchar(8) NOT NULL,
  `tasks_total` int(11) NOT NULL,
  `tasks_done` int(11) NOT NULL DEFAULT 0,
  `after_task_id` varchar(36) DEFAULT NULL,
  `requested_by` varchar(36) NOT NULL,
  `started_at` datetime(3) NOT NULL,
  `finished_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`reshuffle_id`),
  UNIQUE KEY `popug_reshuffles_one_running` (`running`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_tasks` (
  `task_id` varchar(36) NOT NULL,
  `title` varchar(255) NOT NULL,
  `jira_id` varchar(32) DEFAULT NULL,
  `description` text NOT NULL,
  `status` varchar(8) NOT NULL,
  `assignee` varchar(36) NOT NULL,
  `created_by` varchar(36) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `completed_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`task_id`),
  KEY `popug_tasks_assignee` (`assignee`,`status`,`created_at`),
  KEY `popug_tasks_status` (`status`,`task_id`),
  KEY `popug_tasks_created` (`created_at`,`task_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_task_prices` (
  `task_id` varchar(36) NOT NULL,
  `title` varchar(255) DEFAULT NULL,
  `assign_fee` bigint(20) NOT NULL,
  `reward` bigint(20) NOT NULL,
  `priced_at` datetime(3) NOT NULL,
  PRIMARY KEY (`task_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_tracker_users` (
  `user_id` varchar(36) NOT NULL,
  `role` varchar(16) NOT NULL,
  `version` int(11) NOT NULL,
  PRIMARY KEY (`user_id`),
  KEY `popug_tracker_users_role` (`role`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `popug_users` (
  `user_id` varchar(36) NOT NULL,
  `role` varchar(16) NOT NULL,
  `name` varchar(128) DEFAULT NULL,
  `email` varchar(254) DEFAULT NULL,
  `version` int(11) NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `processed_events` (
  `event_id` varchar(64) NOT NULL,
  `event_name` varchar(128) NOT NULL,
  `event_version` int(11) NOT NULL,
  `payload_hash` varchar(64) NOT NULL,
  `received_at` datetime(3) NOT NULL,
  PRIMARY KEY (`event_id`),
  KEY `processed_events_received` (`received_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `room_sponsor` (
  `room` varchar(64) NOT NULL,
  `client_uuid` varchar(64) DEFAULT NULL,
  `total` bigint(20) NOT NULL DEFAULT 0,
  `seq` int(10) unsigned NOT NULL DEFAULT 0,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`room`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `sponsors` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `room` varchar(64) NOT NULL,
  `user_id` bigint(20) unsigned NOT NULL,
  `client_id` bigint(20) unsigned NOT NULL,
  `client_uuid` varchar(64) NOT NULL,
  `total` bigint(20) NOT NULL,
  `seq` int(10) unsigned NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `sponsors_room_seq` (`room`,`seq`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `transfers` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `idempotency_key` varchar(191) NOT NULL,
  `from_account_id` bigint(20) unsigned NOT NULL,
  `to_account_id` bigint(20) unsigned NOT NULL,
  `amount` bigint(20) NOT NULL,
  `reason` varchar(64) NOT NULL,
  `reference` varchar(128) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `transfers_idempotency_key` (`idempotency_key`),
  CONSTRAINT `transfers_positive` CHECK (`amount` > 0),
  CONSTRAINT `transfers_two_accounts` CHECK (`from_account_id` <> `to_account_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;

CREATE TABLE `users` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `uuid` varchar(64) NOT NULL,
  `name` varchar(128) DEFAULT NULL,
  `account_id` bigint(20) unsigned NOT NULL,
  `created_at` datetime(3) NOT NULL,
  `updated_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `users_uuid` (`uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
