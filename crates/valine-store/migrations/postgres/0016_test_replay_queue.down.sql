DROP TABLE test_replay_queue;
